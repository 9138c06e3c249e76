// Issue 8, item 7, "several processes, one truth": two API processes and two workers, real
// processes on one PostgreSQL database and one Temporal server, take a burst of MOs spread over
// both APIs (with carrier retries sent to the other API), and lose nothing, run nothing twice
// and start each customer's runs in the order their messages were acknowledged.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { INBOUND_WORKFLOW } from '../../src/workflows/definitions.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { Receiver } from '../helpers/http.js';
import { freePort } from '../helpers/net.js';
import { startTemporal } from '../helpers/temporal.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CUSTOMERS = 40;
const PER_CUSTOMER = 10;
const IN_FLIGHT = 32;

/** One spawned `npm run api` / `npm run worker`, its output kept to print should the test fail. */
type Proc = { name: string; child: ChildProcess; output: string[]; exit: Promise<void> };

const procs: Proc[] = [];
const tag = randomBytes(4).toString('hex');
const dbName = `mp_${tag}`;
const taskQueue = `mp-${tag}`;
const adminToken = randomBytes(16).toString('hex');
const ingestToken = randomBytes(16).toString('hex');
let env: TestWorkflowEnvironment;
let admin: postgres.Sql;
let sql: postgres.Sql;
let hooks: Receiver;
let dataDir: string;
let apis: string[] = [];
let passed = false;

function spawnProc(name: string, script: string, vars: Record<string, string>): Proc {
  // `node --import tsx` runs the entry point in this one process (the `tsx` CLI would fork a
  // second one), so the signals below reach the service itself.
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...vars },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (stream: string) => (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line) output.push(`[${name} ${stream}] ${line}`);
  };
  child.stdout!.on('data', keep('out'));
  child.stderr!.on('data', keep('err'));
  const exit = new Promise<void>((r) => child.once('exit', (code, signal) => (output.push(`[${name}] exited ${code ?? signal}`), r())));
  const proc = { name, child, output, exit };
  procs.push(proc);
  return proc;
}

async function until(what: string, proc: Proc, ready: () => Promise<boolean> | boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${proc.name} exited before ${what}:\n${proc.output.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`${proc.name}: no ${what} within ${timeoutMs} ms:\n${proc.output.join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopProc(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const stopped = await Promise.race([p.exit.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
  if (!stopped) {
    p.output.push(`[${p.name}] did not stop within 15 s of SIGTERM: SIGKILL`);
    p.child.kill('SIGKILL');
    await p.exit;
  }
}

beforeAll(async () => {
  env = await startTemporal();
  hooks = await new Receiver().start();
  dataDir = await mkdtemp(join(tmpdir(), 'inbound-sms-mp-'));
  admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${dbName}`;
  sql = postgres(url.toString(), { max: 4, onnotice: () => {} });

  const shared = {
    DATABASE_URL: url.toString(),
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    HOST: '127.0.0.1',
    ADMIN_TOKEN: adminToken,
    INGEST_TOKEN: ingestToken,
    SECRETS_KEY: randomBytes(32).toString('base64'),
    PAYLOAD_KEY: randomBytes(32).toString('base64'),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    DISPATCH_INTERVAL_MS: '200',
    DELIVERY_REPORT_WAIT_SECONDS: '0',
    SMS_PROVIDER: 'log',
  };
  // All four start at once, so they also race to migrate the fresh database.
  const started: Promise<void>[] = [];
  for (const n of [1, 2]) {
    const port = await freePort();
    const p = spawnProc(`api${n}`, 'src/api/server.ts', { ...shared, PORT: String(port), DATA_DIR: join(dataDir, `api${n}`) });
    const base = `http://127.0.0.1:${port}`;
    apis.push(base);
    started.push(until('/health', p, () => fetch(`${base}/health`).then((r) => r.ok, () => false)));
  }
  for (const n of [1, 2]) {
    const p = spawnProc(`worker${n}`, 'src/worker/index.ts', { ...shared, PORT: String(await freePort()), DATA_DIR: join(dataDir, `worker${n}`) });
    started.push(until('"polling task queue"', p, () => p.output.some((l) => l.includes('polling task queue'))));
  }
  await Promise.all(started);
});

afterAll(async () => {
  await Promise.all(procs.map(stopProc));
  if (!passed) for (const p of procs) console.error(p.output.join('\n'));
  await hooks?.close();
  await env?.teardown();
  await sql?.end({ timeout: 5 });
  if (admin) {
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${dbName}`;
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName}`);
    await admin.end({ timeout: 5 });
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

type Answer = { status: number; body: any };

async function call(base: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** At most `n` calls of `fn` at once. A freed slot passes straight to the next waiter. */
function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    else active++;
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** A protobuf timestamp in nanoseconds: the server's start times, finer than the client's Date. */
function nanos(t: { seconds?: unknown; nanos?: number | null } | null | undefined): bigint {
  return BigInt(String(t?.seconds ?? 0)) * 1_000_000_000n + BigInt(t?.nanos ?? 0);
}

it('two API processes and two workers under a burst lose nothing and run nothing twice', { timeout: 120_000 }, async () => {
  // The four raced to migrate the fresh database: one applied every file, the others waited
  // on its advisory lock and found nothing left to do.
  const migrated = procs.flatMap((p) => p.output.filter((l) => l.includes('migrations applied:')));
  expect(migrated, migrated.join('\n')).toHaveLength(1);
  const files = await sql<{ name: string }[]>`SELECT name FROM schema_migrations ORDER BY name`;
  expect(migrated[0]).toContain(files.map((f) => f.name).join(', '));

  // Set up through the first API, as README.md does with curl.
  const adminCall = (method: string, path: string, body: unknown) => call(apis[0]!, method, `/v1/admin${path}`, body, { authorization: `Bearer ${adminToken}` });
  const acct = await adminCall('POST', '/accounts', { name: `Multi ${tag}`, country: 'US' });
  expect(acct.status).toBe(201);
  const { sid, api_key: apiKey } = acct.body as { sid: string; api_key: string };
  const number = `+9198${String(parseInt(tag, 16) % 100_000_000).padStart(8, '0')}`;
  expect((await adminCall('POST', '/numbers', { number, kind: 'long_code' })).status).toBe(201);
  expect((await adminCall('POST', `/numbers/${encodeURIComponent(number)}/accounts`, { sid })).status).toBe(201);
  const cfg = await call(apis[0]!, 'POST', `/v1/${sid}/receive-configs`, { number, keyword: 'KEY', trigger: { url: hooks.url('/mo') } }, { 'api-key': apiKey });
  expect(cfg.status, JSON.stringify(cfg.body)).toBe(201);

  // The burst: every customer sends their messages one after another (the carrier delivers
  // the next once the last was acknowledged), alternating between the two APIs; all customers
  // at once, IN_FLIGHT requests at most. Twenty messages are resent to the other API after
  // their answer, and ten are sent to both APIs at the same moment (a carrier retrying early).
  const run = limiter(IN_FLIGHT);
  const post = (base: string, body: Record<string, string>) => run(() => call(base, 'POST', '/v1/inbound', body, { authorization: `Bearer ${ingestToken}` }));
  const customers = Array.from({ length: CUSTOMERS }, (_, c) => `+91970000${String(c).padStart(4, '0')}`);
  const sent: { id: string; source: string; text: string; c: number; i: number }[] = [];
  const answers = new Map<string, Answer>();
  const repeats: { id: string; first: Answer; again: Answer }[] = [];
  await Promise.all(
    customers.map(async (source, c) => {
      for (let i = 1; i <= PER_CUSTOMER; i++) {
        const id = `${tag}-c${c}-m${i}`;
        const text = `KEY ${i}`;
        const body = { id, source, recipient: number, message: text };
        const here = apis[(c + i) % 2]!;
        const other = apis[(c + i + 1) % 2]!;
        sent.push({ id, source, text, c, i });
        const chosen = i === 1 + (c % PER_CUSTOMER);
        if (chosen && c >= 20 && c < 30) {
          const [a, b] = await Promise.all([post(here, body), post(other, body)]);
          answers.set(id, a);
          repeats.push({ id, first: a, again: b });
        } else {
          const a = await post(here, body);
          answers.set(id, a);
          if (chosen && c < 20) repeats.push({ id, first: a, again: await post(other, body) });
        }
      }
    }),
  );

  // Every MO acknowledged, as a stored keyword match with its run to come.
  expect(sent).toHaveLength(CUSTOMERS * PER_CUSTOMER);
  for (const m of sent) {
    const a = answers.get(m.id)!;
    expect(a.status, `${m.id}: ${JSON.stringify(a.body)}`).toBe(202);
    expect(a.body).toMatchObject({ id: m.id, outcome: 'keyword', workflow_id: `mo-${m.id}` });
  }
  // A repeated carrier id, at either API, gets the first answer and starts nothing.
  expect(repeats).toHaveLength(30);
  for (const r of repeats) {
    expect(r.again.status, r.id).toBe(202);
    expect(r.again.body, r.id).toEqual(r.first.body);
  }

  // Wait (bounded) until every run has completed, in PostgreSQL and in Temporal.
  const query = `WorkflowType = '${INBOUND_WORKFLOW}' AND TaskQueue = '${taskQueue}'`;
  const listRuns = async () => {
    const runs = [];
    for await (const w of env.client.workflow.list({ query })) runs.push(w);
    return runs;
  };
  const deadline = Date.now() + 90_000;
  let runs: Awaited<ReturnType<typeof listRuns>> = [];
  for (;;) {
    // dispatch_state is recorded in batches after the start returns: a run may complete first.
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM inbound_messages WHERE run_status = 'completed' AND dispatch_state = 'started'`;
    if (row!.n >= sent.length) {
      runs = await listRuns();
      if (runs.filter((w) => w.status.name === 'COMPLETED').length >= sent.length) break;
    }
    if (Date.now() > deadline) throw new Error(`runs not completed within 90 s: ${row!.n} of ${sent.length} in PostgreSQL, ${runs.length} listed in Temporal`);
    await new Promise((r) => setTimeout(r, 500));
  }

  // Stored exactly once each, nothing else stored, each run started and completed.
  const rows = await sql<{ id: string; source: string; message: string; seq: string; workflow_id: string; dispatch_state: string; run_status: string }[]>`
    SELECT id, source, message, seq, workflow_id, dispatch_state, run_status FROM inbound_messages ORDER BY seq`;
  expect(rows).toHaveLength(sent.length);
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const m of sent) {
    expect(byId.get(m.id), m.id).toMatchObject({ source: m.source, message: m.text, workflow_id: `mo-${m.id}`, dispatch_state: 'started', run_status: 'completed' });
  }

  // One workflow per message, none run twice (a workflow id listed twice would be a second run).
  expect(runs).toHaveLength(sent.length);
  expect(new Set(runs.map((w) => w.workflowId))).toEqual(new Set(sent.map((m) => `mo-${m.id}`)));
  expect(runs.every((w) => w.status.name === 'COMPLETED')).toBe(true);

  // The business's endpoint got each message once, with the customer's number and text. It
  // always answers 200, so no delivery had a reason to be retried.
  const got = hooks.to('/mo');
  expect(got).toHaveLength(sent.length);
  const deliveries = new Map(got.map((r) => [String(r.headers['webhook-id']), JSON.parse(r.body)]));
  expect(deliveries.size).toBe(sent.length);
  for (const m of sent) {
    expect(deliveries.get(`mo-${m.id}-trigger`), m.id).toMatchObject({ id: m.id, source: m.source, message: m.text, keyword: 'KEY' });
  }
  const attempts = await sql<{ status: string; attempts: number; n: number }[]>`
    SELECT status, attempts, count(*)::int AS n FROM deliveries GROUP BY status, attempts`;
  expect(attempts).toEqual([{ status: 'succeeded', attempts: 1, n: sent.length }]);

  // One customer's order kept (docs/decisions.md, ingest): a message acknowledged before the
  // customer's next was sent is stored before it, and its run is started before the next's,
  // whichever API took either and whichever process started either run.
  const startedAt = new Map(runs.map((w) => [w.workflowId, nanos(w.raw.startTime as never)]));
  for (let c = 0; c < CUSTOMERS; c++) {
    const mine = sent.filter((m) => m.c === c).sort((a, b) => a.i - b.i);
    const seqs = mine.map((m) => BigInt(byId.get(m.id)!.seq));
    const starts = mine.map((m) => startedAt.get(`mo-${m.id}`)!);
    for (let k = 1; k < mine.length; k++) {
      expect(seqs[k]! > seqs[k - 1]!, `${mine[k]!.id} stored after ${mine[k - 1]!.id}`).toBe(true);
      expect(starts[k]! > starts[k - 1]!, `${mine[k]!.id} started after ${mine[k - 1]!.id}`).toBe(true);
    }
  }

  // Which paths started the runs (the cross-process hand-over goes through the dispatcher).
  const dispatched = procs
    .flatMap((p) => p.output.map((l) => /dispatcher started (\d+)/.exec(l)).filter((x) => x !== null))
    .reduce((n, m) => n + Number(m[1]), 0);
  console.info(`multi-process: ${sent.length} MOs, ${repeats.length} repeats; the dispatchers started ${dispatched} run(s)`);
  passed = true;
});
