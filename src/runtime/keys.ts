import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { generateKey, makeKeyring } from '../domain/keyring.js';

/**
 * SECRETS_KEY and PAYLOAD_KEY. `npm start` (development) makes the missing ones once and keeps
 * them in DATA_DIR/dev-keys.json, like the development tokens, so what they sealed stays
 * readable across restarts; every other process refuses to start without them.
 * Fills `config.keys` in place.
 */
export async function resolveKeys(config: Config, opts: { localStack?: boolean; log: (line: string) => void }): Promise<void> {
  const missing = (['secrets', 'payload'] as const).filter((k) => !config.keys[k]);
  if (missing.length === 0) return;
  const names = { secrets: 'SECRETS_KEY', payload: 'PAYLOAD_KEY' };
  if (!opts.localStack) {
    throw new Error(
      `${missing.map((k) => names[k]).join(' and ')} must be set (openssl rand -base64 32 makes one); ` +
        'only `npm start` makes development keys by itself',
    );
  }
  const file = resolve(config.dataDir, 'dev-keys.json');
  const stored: Partial<Record<'secrets' | 'payload', string>> = existsSync(file) ? JSON.parse(await readFile(file, 'utf8')) : {};
  let changed = false;
  for (const k of missing) {
    if (!stored[k]) {
      stored[k] = generateKey();
      changed = true;
    }
    config.keys[k] = makeKeyring(stored[k]!, undefined, names[k]);
  }
  if (changed) {
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600 });
  }
  opts.log(`${missing.map((k) => names[k]).join(' and ')}: development keys from ${file} (set them in production)`);
}
