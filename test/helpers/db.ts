import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { migrate } from '../../src/db/migrate.js';
import type { Sql } from '../../src/db/sql.js';

/** The PostgreSQL the tests use: TEST_DATABASE_URL, else the machine's local server. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type TestDb = { sql: Sql; schema: string; url: string; drop: () => Promise<void> };

/**
 * A schema of its own per test file, migrated the same way `npm start` migrates, and dropped
 * afterwards: files never see each other's rows.
 */
export async function createTestDb(): Promise<TestDb> {
  const schema = `t_${randomBytes(5).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const sql = postgres(TEST_DATABASE_URL, {
    max: 10,
    onnotice: () => {},
    transform: { undefined: null },
    connection: { search_path: schema },
  });
  await migrate(sql);
  return {
    sql,
    schema,
    url: TEST_DATABASE_URL,
    drop: async () => {
      await sql.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await sql.end({ timeout: 5 });
    },
  };
}
