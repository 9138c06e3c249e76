// docker-compose.yml's db-users job (deploy/postgres/db-users.sh), run with psql against the
// machine's PostgreSQL as its superuser, on databases and users of its own.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';

const SCRIPT = fileURLToPath(new URL('../../deploy/postgres/db-users.sh', import.meta.url));
const tag = `dbu_${randomBytes(4).toString('hex')}`;
const names = { app: `${tag}_app`, appUser: `${tag}_app_user`, temporalUser: `${tag}_temporal`, t1: `${tag}_t1`, t2: `${tag}_t2` };
const server = new URL(TEST_DATABASE_URL);
let admin: postgres.Sql;

function run(env: Record<string, string>) {
  const res = spawnSync('sh', [SCRIPT], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      PGHOST: server.hostname, PGPORT: server.port || '5432', PGUSER: decodeURIComponent(server.username || 'postgres'),
      ...(server.password ? { PGPASSWORD: decodeURIComponent(server.password) } : {}),
      APP_DB_USER: names.appUser, APP_DB_NAME: names.app,
      TEMPORAL_DB_USER: names.temporalUser, TEMPORAL_DB_NAMES: `${names.t1} ${names.t2}`,
      APP_DB_PASSWORD: 'app-secret-1', TEMPORAL_DB_PASSWORD: 'temporal-secret-1',
      ...env,
    },
  });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

/** A connection to `db` on the test server, as `user` (the server trusts local connections). */
function as(user: string, db: string): postgres.Sql {
  const url = new URL(TEST_DATABASE_URL);
  url.username = user;
  url.password = '';
  url.pathname = `/${db}`;
  return postgres(url.toString(), { max: 1, onnotice: () => {} });
}

beforeAll(async () => {
  admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  for (const db of [names.app, names.t1, names.t2]) await admin.unsafe(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  for (const role of [names.appUser, names.temporalUser]) await admin.unsafe(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

it('makes the app and Temporal users, each owning its databases and shut out of the other\'s, again and again', async () => {
  // A database an earlier layout made, everything in it owned by the superuser.
  await admin.unsafe(`CREATE DATABASE ${names.app}`);
  const legacy = as(decodeURIComponent(server.username || 'postgres'), names.app);
  await legacy.unsafe(`
    CREATE TABLE old_rows (id serial PRIMARY KEY, n int GENERATED ALWAYS AS IDENTITY);
    CREATE SEQUENCE old_counter;
    CREATE TYPE old_kind AS ENUM ('a', 'b');
    CREATE FUNCTION old_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
    CREATE VIEW old_view AS SELECT id FROM old_rows;`);
  await legacy.end();

  const first = run({});
  expect(first, first.out).toMatchObject({ code: 0 });

  const roles = await admin<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean; rolcanlogin: boolean; password: string | null }[]>`
    SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolpassword AS password FROM pg_authid
    WHERE rolname IN (${names.appUser}, ${names.temporalUser}) ORDER BY rolname`;
  expect(roles.map(({ password, ...r }) => ({ ...r, hasPassword: password !== null }))).toEqual([
    { rolname: names.appUser, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true, hasPassword: true },
    { rolname: names.temporalUser, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true, hasPassword: true },
  ]);
  const dbs = await admin<{ datname: string; owner: string }[]>`
    SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname IN (${names.app}, ${names.t1}, ${names.t2}) ORDER BY datname`;
  expect(dbs).toEqual([
    { datname: names.app, owner: names.appUser },
    { datname: names.t1, owner: names.temporalUser },
    { datname: names.t2, owner: names.temporalUser },
  ]);
  const connect = async (user: string, db: string) => (await admin<{ ok: boolean }[]>`SELECT has_database_privilege(${user}, ${db}, 'CONNECT') AS ok`)[0]!.ok;
  expect(await connect(names.appUser, names.app)).toBe(true);
  expect(await connect(names.appUser, names.t1)).toBe(false);
  expect(await connect(names.temporalUser, names.t2)).toBe(true);
  expect(await connect(names.temporalUser, names.app)).toBe(false);

  // What the superuser left in the app's database is the app user's now.
  const app = as(names.appUser, names.app);
  try {
    const owners = await app<{ what: string; owner: string }[]>`
      SELECT relname AS what, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'public'::regnamespace
      UNION ALL SELECT proname, pg_get_userbyid(proowner) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
      UNION ALL SELECT typname, pg_get_userbyid(typowner) FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e'`;
    expect(owners.length).toBeGreaterThanOrEqual(8);
    expect(owners.filter((o) => o.owner !== names.appUser)).toEqual([]);
    // The app's own migrations run as its user, as `npm run api` does at start.
    const applied = await migrate(app);
    expect(applied.length).toBeGreaterThan(0);
    await app`INSERT INTO old_rows DEFAULT VALUES`;
  } finally {
    await app.end();
  }

  // Temporal's user can install what its visibility schema needs (a trusted extension).
  const temporal = as(names.temporalUser, names.t2);
  try {
    await temporal`CREATE EXTENSION IF NOT EXISTS btree_gin`;
    await temporal`CREATE TABLE executions_visibility (namespace_id char(64), run_id char(64))`;
  } finally {
    await temporal.end();
  }

  // Again: nothing to do, and a changed password is set.
  const before = (await admin<{ p: string }[]>`SELECT rolpassword AS p FROM pg_authid WHERE rolname = ${names.appUser}`)[0]!.p;
  const second = run({ APP_DB_PASSWORD: 'app-secret-2' });
  expect(second, second.out).toMatchObject({ code: 0 });
  const after = (await admin<{ p: string }[]>`SELECT rolpassword AS p FROM pg_authid WHERE rolname = ${names.appUser}`)[0]!.p;
  expect(after).not.toBe(before);
  // An extension's own functions stay as the extension made them.
  const ext = as(decodeURIComponent(server.username || 'postgres'), names.t2);
  try {
    const [fn] = await ext<{ owner: string }[]>`
      SELECT pg_get_userbyid(p.proowner) AS owner FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
      WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'btree_gin') LIMIT 1`;
    expect(fn!.owner).not.toBe(names.temporalUser);
  } finally {
    await ext.end();
  }
});

it('refuses to make the superuser the app\'s user, or one user both', () => {
  const superuser = run({ APP_DB_USER: 'postgres' });
  expect(superuser.code).not.toBe(0);
  expect(superuser.out).toMatch(/postgres is the superuser/);
  const same = run({ TEMPORAL_DB_USER: names.appUser });
  expect(same.code).not.toBe(0);
  expect(same.out).toMatch(/must differ/);
  const missing = run({ APP_DB_PASSWORD: '' });
  expect(missing.code).not.toBe(0);
  expect(missing.out).toMatch(/APP_DB_PASSWORD must be set/);
});
