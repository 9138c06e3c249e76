import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config.js';

/** `generated` names the tokens this process made up: only those are ever printed. */
export type Tokens = { admin: string; ingest: string; generated: { admin: boolean; ingest: boolean } };

/**
 * ADMIN_TOKEN and INGEST_TOKEN from the environment; in development, when unset, tokens are
 * generated once and kept in DATA_DIR/dev-tokens.json so they stay the same across restarts.
 */
export async function resolveTokens(config: Config): Promise<Tokens> {
  if (config.adminToken && config.ingestToken) {
    return { admin: config.adminToken, ingest: config.ingestToken, generated: { admin: false, ingest: false } };
  }
  const file = resolve(config.dataDir, 'dev-tokens.json');
  let stored: { admin: string; ingest: string } | null = null;
  if (existsSync(file)) stored = JSON.parse(await readFile(file, 'utf8'));
  if (!stored) {
    stored = { admin: `adm_${randomBytes(18).toString('hex')}`, ingest: `ing_${randomBytes(18).toString('hex')}` };
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
  }
  return {
    admin: config.adminToken ?? stored.admin,
    ingest: config.ingestToken ?? stored.ingest,
    generated: { admin: !config.adminToken, ingest: !config.ingestToken },
  };
}

/** Prints the development tokens this process generated; tokens from the environment never. */
export function printGeneratedTokens(tokens: Tokens, dataDir: string, log: (line: string) => void): void {
  if (tokens.generated.admin) log(`ADMIN_TOKEN  ${tokens.admin}`);
  if (tokens.generated.ingest) log(`INGEST_TOKEN ${tokens.ingest}`);
  if (tokens.generated.admin || tokens.generated.ingest) {
    log(`(development tokens, kept in ${dataDir}/dev-tokens.json; set ADMIN_TOKEN and INGEST_TOKEN in production)`);
  }
}
