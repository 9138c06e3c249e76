import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Sql } from './sql.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** The numbered SQL files this code knows, in order. */
export async function migrationFiles(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
}

// The files do not change while a process runs; `/ready` reads them once.
let known: Promise<string[]> | null = null;

/**
 * The migration files this code knows that the database has not applied (`/ready`). Rows for
 * files this code does not know (a newer version migrated first, during a rolling deploy) are
 * not a problem: migrations only add.
 */
export async function pendingMigrations(sql: Sql): Promise<string[]> {
  const [table] = await sql<{ exists: boolean }[]>`SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`;
  const done = new Set(table!.exists ? (await sql<{ name: string }[]>`SELECT name FROM schema_migrations`).map((r) => r.name) : []);
  known ??= migrationFiles().catch((e) => {
    known = null;
    throw e;
  });
  return (await known).filter((f) => !done.has(f));
}

/**
 * Applies the forward-only numbered SQL files not yet applied, all in one transaction (a
 * failing file leaves the schema as it was), under an advisory lock so that API and worker
 * starting together do not race.
 */
export async function migrate(sql: Sql): Promise<string[]> {
  const files = await migrationFiles();
  const applied: string[] = [];
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(7410001)`;
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
    const done = new Set((await tx<{ name: string }[]>`SELECT name FROM schema_migrations`).map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      const text = await readFile(MIGRATIONS_DIR + file, 'utf8');
      await tx.unsafe(text);
      await tx`INSERT INTO schema_migrations (name) VALUES (${file})`;
      applied.push(file);
    }
  });
  return applied;
}
