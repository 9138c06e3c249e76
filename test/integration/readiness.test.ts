// Issue 10, part 3: `/health` and `/ready` of the API and of `npm run worker`, against real
// parts that go down and come back: PostgreSQL behind a proxy that cuts it, a Temporal dev
// server that is stopped and started again on its port.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRoutes } from '../../src/api/routes/health.js';
import { loadConfig, type Config } from '../../src/config.js';
import { generateKey } from '../../src/domain/keyring.js';
import { createReadiness, describe as describeError, type ReadinessCheck } from '../../src/runtime/readiness.js';
import { startTemporalDevServer, type DevServer } from '../../src/runtime/temporal-dev.js';
import { connectTemporal, type Temporal } from '../../src/runtime/temporal.js';
import { createTestDb, TEST_DATABASE_URL, type TestDb } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { PgProxy } from '../helpers/pg-proxy.js';
import { temporalCliPath } from '../helpers/temporal.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let dataDir: string;
let serverConfig: Config;
let server: DevServer | null = null;
let db: TestDb;
let proxy: PgProxy;
let proxied: postgres.Sql;
let temporal: Temporal;
let app: Hono;
/** every readiness the file made: drained before the Temporal connection closes */
const checks: ReadinessCheck[] = [];

function routes(deps: Parameters<typeof createReadiness>[0]): Hono {
  const ready = createReadiness(deps);
  checks.push(ready);
  const local = new Hono();
  local.route('/', healthRoutes(ready));
  return local;
}

async function startServer(): Promise<void> {
  server = await startTemporalDevServer(serverConfig, (l) => console.error(`[temporal] ${l}`));
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'inbound-sms-ready-'));
  // Another test file's server may take a port between freePort() and the bind: try fresh ones.
  for (let attempt = 1; !server; attempt++) {
    serverConfig = loadConfig({
      DATA_DIR: dataDir, TEMPORAL_CLI_PATH: temporalCliPath(),
      TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_DEV_UI_PORT: String(await freePort()),
    });
    try {
      await startServer();
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
  db = await createTestDb();
  proxy = await new PgProxy(new URL(TEST_DATABASE_URL)).start();
  const url = new URL(TEST_DATABASE_URL);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  proxied = postgres(url.toString(), { max: 4, onnotice: () => {}, connection: { search_path: db.schema }, connect_timeout: 2 });
  // As `npm run api` connects: lazily, so the API starts and answers while Temporal is down.
  temporal = connectTemporal(server!.address, 'default', null);
  app = routes({ sql: proxied, temporal: temporal.connection, namespace: 'default' });
});

afterAll(async () => {
  await Promise.all(checks.map((c) => c.drain()));
  await temporal?.close();
  await proxied?.end({ timeout: 1 });
  await proxy?.close();
  await db?.drop();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function get(path: string, from: Hono = app): Promise<{ status: number; body: any; text: string }> {
  const res = await from.request(path);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

/** Asks `/ready` until it answers `status`; fails after `timeoutMs` with the last answer. */
async function readyUntil(status: number, timeoutMs = 60_000, from: Hono = app) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await get('/ready', from);
    if (res.status === status) return res;
    if (Date.now() > deadline) throw new Error(`/ready did not answer ${status} within ${timeoutMs} ms; last: ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the API', () => {
  it('/health answers while everything else is down', async () => {
    proxy.stop();
    try {
      expect(await get('/health')).toMatchObject({ status: 200, body: { ok: true } });
    } finally {
      proxy.resume();
    }
  });

  it('/ready is 503 naming PostgreSQL while it is down, and 200 again once it is back', async () => {
    const up = await readyUntil(200);
    expect(up.body).toEqual({ ready: true, checks: { postgresql: { ok: true }, temporal: { ok: true }, migrations: { ok: true } } });

    proxy.stop();
    const down = await get('/ready');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      ready: false,
      checks: { postgresql: { ok: false }, temporal: { ok: true }, migrations: { ok: false, error: 'not checked: PostgreSQL is down' } },
      error: { code: 'not_ready', message: expect.stringMatching(/^not ready: PostgreSQL \(/) },
    });
    expect(down.body.error.message).not.toMatch(/Temporal/);
    // Probes are unauthenticated: no address, port or connection string in the answer.
    expect(down.text).not.toContain(String(proxy.port));
    expect(down.text).not.toMatch(/postgres:\/\/|127\.0\.0\.1/);

    proxy.resume();
    // postgres.js opens new connections on the next query: ready again without a restart.
    const back = await readyUntil(200, 30_000);
    expect(back.body.checks.postgresql).toEqual({ ok: true });
  });

  it('/ready is 503 naming Temporal while the server is down, and 200 again once it is back', async () => {
    await readyUntil(200);
    await server!.stop();
    server = null;
    const down = await readyUntil(503, 30_000);
    expect(down.body).toMatchObject({
      ready: false,
      checks: { postgresql: { ok: true }, migrations: { ok: true }, temporal: { ok: false } },
      error: { code: 'not_ready', message: expect.stringMatching(/^not ready: Temporal \(/) },
    });
    expect(down.text).not.toContain(String(serverConfig.temporal.devPort));

    // The same server comes back on its port, from its database file.
    await startServer();
    // The lazy connection reconnects by itself (gRPC's backoff): no restart of the API.
    const back = await readyUntil(200, 90_000);
    expect(back.body.checks.temporal).toEqual({ ok: true });
  });

  it('/ready is 503 naming the migration a database lacks', async () => {
    const other = await createTestDb();
    try {
      const local = routes({ sql: other.sql, temporal: temporal.connection, namespace: 'default' });
      await readyUntil(200, 60_000, local);
      const [last] = await other.sql<{ name: string }[]>`DELETE FROM schema_migrations WHERE name = (SELECT max(name) FROM schema_migrations) RETURNING name`;
      const res = await get('/ready', local);
      expect(res.status).toBe(503);
      expect(res.body.checks).toMatchObject({ postgresql: { ok: true }, temporal: { ok: true }, migrations: { ok: false, error: `not applied: ${last!.name}` } });
      expect(res.body.error.message).toMatch(/^not ready: migrations \(not applied: /);
    } finally {
      await other.drop();
    }
  });

  it('a namespace Temporal does not have is not ready', async () => {
    const local = routes({ sql: db.sql, temporal: temporal.connection, namespace: `missing-${randomBytes(4).toString('hex')}` });
    const res = await readyUntil(503, 60_000, local);
    expect(res.body.checks).toMatchObject({ postgresql: { ok: true }, temporal: { ok: false, error: expect.stringMatching(/not found/i) } });
  });
});

describe('shutting down after a probe while Temporal is down', () => {
  it('drain() outlasts the Temporal client\'s retries, so closing the connection after it throws nothing', async () => {
    // A port nothing listens on: the client retries UNAVAILABLE in the background after the
    // check has given up; a retry on a closed connection would throw out of a timer, an
    // uncaught error that fails this file.
    const lazy = connectTemporal(`127.0.0.1:${await freePort()}`, 'default', null);
    const ready = createReadiness({ sql: db.sql, temporal: lazy.connection, namespace: 'default', timeoutMs: 1000 });
    const res = await ready();
    expect(res.checks.temporal).toMatchObject({ ok: false });
    await ready.drain();
    await lazy.close();
    // Longer than the client's longest pause between retries (5 s).
    await new Promise((r) => setTimeout(r, 5500));
  });
});

describe('what /ready shows of an error', () => {
  it('leaves out URLs and addresses', () => {
    expect(describeError(new Error('connect ECONNREFUSED 10.1.2.3:5432'))).toBe('connect ECONNREFUSED <address>');
    expect(describeError(new Error('password authentication failed for postgres://app:s3cret@db.internal:5432/app'))).toBe('password authentication failed for <url>');
    expect(describeError(Object.assign(new Error('write CONNECTION_CLOSED postgresql:5432'), { code: 'CONNECTION_CLOSED' }))).toBe('write CONNECTION_CLOSED <address>');
    expect(describeError(new Error('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED [::1]:7233 (2026-12-01T04:20:55.445Z)'))).toBe(
      '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED <address> (2026-12-01T04:20:55.445Z)',
    );
  });
});

describe('`npm run worker` alone', () => {
  let child: ChildProcess | null = null;
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('serves /health and /ready on WORKER_HEALTH_PORT, its own state among the checks, and stops on SIGTERM', async () => {
    await startServerIfStopped();
    const port = await freePort();
    const workerDir = join(dataDir, 'worker');
    const output: string[] = [];
    child = spawn('npm', ['run', 'worker'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '',
        DATABASE_URL: `${db.url}?search_path=${db.schema}`,
        TEMPORAL_ADDRESS: server!.address,
        TEMPORAL_TASK_QUEUE: `tq-${randomBytes(4).toString('hex')}`,
        TEMPORAL_METRICS_PORT: String(await freePort()),
        WORKER_HEALTH_PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: workerDir,
        SECRETS_KEY: generateKey(),
        PAYLOAD_KEY: generateKey(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));

    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 120_000;
    let ready: { status: number; body: any } | null = null;
    while (!ready || ready.status !== 200) {
      if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}:\n${output.join('')}`);
      if (Date.now() > deadline) throw new Error(`the worker's /ready did not answer 200: ${JSON.stringify(ready)}\n${output.join('')}`);
      ready = await fetch(`${base}/ready`).then(async (r) => ({ status: r.status, body: await r.json() }), () => null);
      if (!ready || ready.status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(ready.body).toEqual({ ready: true, checks: { postgresql: { ok: true }, temporal: { ok: true }, migrations: { ok: true }, worker: { ok: true } } });
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });

    // A service manager stops `npm run worker` by signalling npm's pid.
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    expect(code, output.join('')).toBe(0);
    expect(await fetch(`${base}/health`).then(() => 'answered', () => 'closed')).toBe('closed');
  });
});

async function startServerIfStopped(): Promise<void> {
  if (!server) await startServer();
}
