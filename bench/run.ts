// `npm run bench`: prints figures; asserts nothing. Bounded in count, 127.0.0.1 only.
//   BENCH_MESSAGES (default 2000), BENCH_CONCURRENCY (default 16),
//   BENCH_DATABASE_URL (default the local test database; a schema of its own, dropped after).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import postgres from 'postgres';
import { createApp } from '../src/api/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { migrate } from '../src/db/migrate.js';
import { matchMessage, type KeywordCandidate } from '../src/domain/matching.js';
import { dispatchPending } from '../src/ingest/dispatcher.js';
import { RunStarter } from '../src/ingest/starter.js';
import { createMailer } from '../src/outbound/mailer.js';
import { logProvider } from '../src/outbound/sms-providers.js';
import { startTemporalDevServer } from '../src/runtime/temporal-dev.js';
import { connectTemporal, ensureSearchAttributes, type Temporal } from '../src/runtime/temporal.js';
import { createWorker } from '../src/worker/worker.js';
import { freePort } from '../test/helpers/net.js';

Runtime.install({ logger: new DefaultLogger('WARN') });
const N = Number(process.env.BENCH_MESSAGES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DB_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const TOKENS = { admin: 'bench-admin', ingest: 'bench-ingest' };

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);

function benchMatching() {
  const candidates: KeywordCandidate[] = Array.from({ length: 50 }, (_, i) => ({
    configId: `c${i}`, phrase: i % 2 ? `OFFER ${i}` : `OFFER`, keyword: 'OFFER', expiresAt: i % 7 ? null : new Date(0),
  }));
  const messages = ['offer 17 please', 'OFFER now', 'offer   3 x y z', 'nothing here'];
  const rounds = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) matchMessage({ message: messages[i & 3]!, candidates, defaultConfigId: 'd', receivedAt: new Date() });
  const ms = performance.now() - t0;
  console.log(`matching (pure, 50 candidates for the first word): ${Math.round(rounds / (ms / 1000)).toLocaleString()} messages/s`);
}

async function fire(base: string, recipient: string, count: number, tag: string): Promise<{ latencies: number[]; seconds: number; statuses: Map<number, number> }> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        const s = performance.now();
        const res = await fetch(`${base}/v1/inbound`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ingest}` },
          // 500 customers: one customer's messages start one after another, as they must.
          body: JSON.stringify({ id: `${tag}-${i}`, source: `+9198${String(i % 500).padStart(8, '0')}`, recipient, message: `OFFER ${i % 50} bench` }),
        });
        await res.arrayBuffer();
        latencies.push(performance.now() - s);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), seconds: (performance.now() - t0) / 1000, statuses };
}

function report(label: string, r: { latencies: number[]; seconds: number; statuses: Map<number, number> }) {
  const codes = [...r.statuses].map(([c, n]) => `${c}×${n}`).join(' ');
  console.log(`${label}: ${r.latencies.length} requests in ${r.seconds.toFixed(2)} s = ${(r.latencies.length / r.seconds).toFixed(0)} req/s; ` +
    `latency ms p50 ${pct(r.latencies, 50)} p95 ${pct(r.latencies, 95)} p99 ${pct(r.latencies, 99)} (${codes})`);
}

async function main() {
  console.log(`node ${process.version}; ${N} messages, concurrency ${CONCURRENCY}`);
  benchMatching();

  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(DB_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const sql = postgres(DB_URL, { max: 20, onnotice: () => {}, transform: { undefined: null }, connection: { search_path: schema } });
  const dataDir = await mkdtemp(join(tmpdir(), 'inbound-sms-bench-'));
  const hooks = { count: 0, done: null as null | (() => void) };
  const receiver = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.end('ok');
      if (++hooks.count === N) hooks.done?.();
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => receiver.once('listening', r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/mo`;
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    await migrate(sql);
    const [port, uiPort] = [await freePort(), await freePort()];
    const devConfig = loadConfig({ DATA_DIR: dataDir, TEMPORAL_DEV_PORT: String(port), TEMPORAL_DEV_UI_PORT: String(uiPort), TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH ?? 'temporal' });
    const dev = await startTemporalDevServer(devConfig, console.log);
    cleanups.push(dev.stop);
    const config: Config = loadConfig({ DATABASE_URL: DB_URL, TEMPORAL_ADDRESS: dev.address, ADMIN_TOKEN: TOKENS.admin, INGEST_TOKEN: TOKENS.ingest, DELIVERY_REPORT_WAIT_SECONDS: '0', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    const temporal = connectTemporal(dev.address, 'default');
    cleanups.push(temporal.close);
    await ensureSearchAttributes(temporal.connection, 'default');

    const { base, starter, stop } = await startApi(sql, temporal, config);
    cleanups.push(stop);
    const a = await setup(base, hookUrl);

    // 1. Ingest with Temporal up, no worker: each 202 after the store; runs start behind it.
    const t = performance.now();
    report('ingest, Temporal up (202 once stored)', await fire(base, a.number, N, 'up'));
    await starter.drain();
    const [row] = await sql`SELECT count(*)::int AS pending FROM inbound_messages WHERE dispatch_state = 'pending'`;
    const pending = row!.pending as number;
    console.log(`  all ${N} runs started ${((performance.now() - t) / 1000).toFixed(2)} s after the first request (${pending} left to the dispatcher)`);
    while ((await dispatchPending({ sql, temporal: temporal.client, config }, 500)) > 0);

    // 2. End to end: a worker drains the N runs; each POSTs to a local webhook.
    const connection = await NativeConnection.connect({ address: dev.address });
    const worker = await createWorker({ connection, namespace: 'default', taskQueue: config.temporal.taskQueue, deps: { sql, config, sms: logProvider, mailer: createMailer(config) } });
    const t0 = performance.now();
    await worker.runUntil(
      new Promise<void>((resolve) => {
        hooks.done = resolve;
        if (hooks.count >= N) resolve();
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(`runs, one worker: ${N} workflows to webhook in ${seconds.toFixed(2)} s = ${(N / seconds).toFixed(0)} runs/s`);
    await connection.close();

    // 3. Ingest while Temporal is unreachable: stored as pending, started later.
    const down = connectTemporal('127.0.0.1:9', 'default');
    const outage = await startApi(sql, down, config);
    report('ingest, Temporal unreachable (stored only)', await fire(outage.base, a.number, N, 'down'));
    await outage.stop();
    await down.close();
    const t1 = performance.now();
    let started = 0;
    while (started < N) started += await dispatchPending({ sql, temporal: temporal.client, config }, 500);
    console.log(`dispatcher: ${N} stored messages started in ${((performance.now() - t1) / 1000).toFixed(2)} s`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    receiver.close();
    await sql.end();
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function startApi(sql: postgres.Sql, temporal: Temporal, config: Config) {
  const starter = new RunStarter({ sql, temporal: temporal.client, config });
  const app = createApp({ sql, temporal: temporal.client, config, tokens: TOKENS, sms: logProvider, starter });
  const server = await new Promise<ReturnType<typeof serve>>((res) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => res(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await starter.drain();
  };
  return { base, starter, stop };
}

async function setup(base: string, hookUrl: string) {
  const call = async (path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  const adminH = { authorization: `Bearer ${TOKENS.admin}` };
  const acct = await call('/v1/admin/accounts', { name: 'Bench', country: 'US' }, adminH);
  const number = '+1555' + String(Date.now()).slice(-7);
  await call('/v1/admin/numbers', { number, kind: 'long_code' }, adminH);
  await call(`/v1/admin/numbers/${encodeURIComponent(number)}/accounts`, { sid: acct.sid }, adminH);
  const keyH = { 'api-key': acct.api_key };
  // 50 keyword configurations on the number, all starting with OFFER, plus a default.
  await call(`/v1/${acct.sid}/receive-configs`, { number, keyword: 'OFFER', trigger: { url: hookUrl } }, keyH);
  for (let i = 1; i < 50; i++) await call(`/v1/${acct.sid}/receive-configs`, { number, keyword: `OFFER ${i}`, trigger: { url: hookUrl } }, keyH);
  await call(`/v1/${acct.sid}/receive-configs`, { number, default: true, trigger: { url: hookUrl } }, keyH);
  return { number };
}

await main();
process.exit(0);
