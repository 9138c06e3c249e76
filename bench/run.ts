// `npm run bench`: the yardstick for ingest and processing throughput. In one run it measures,
// one after another, side by side:
//   relay    bench/naive-relay.ts: POST /v1/inbound → fetch(webhook) → 202, no storage
//   ceiling  bench/temporal-ceiling.ts: a dev server started as `npm start` starts it, one
//            minimal workflow per MO (eager start, one local activity posting the webhook)
//   service  `node --import tsx src/main.ts`, as `npm start` runs it (its own dev server, a
//            fresh database), with two keywords: WIN (webhook only) and MIX (SMS reply,
//            email forward and webhook); then WIN again, its MOs sent as deliver_sm by a local
//            SMSC the service binds to (SMPP ingest)
// and prints one column per scenario, the service's ratios to the references, and the targets;
// then the data-growth scenario (lib/growth.ts): 1,000,000 MOs in one account, loaded with SQL,
// and the API's reads timed against their targets.
// Everything binds and calls 127.0.0.1 only; every wait is bounded, and the whole run is
// killed after BENCH_TIMEOUT_MINUTES. bench/README.md explains how to read the figures.
//
// Knobs: BENCH_MESSAGES (3000), BENCH_CONCURRENCY (64), BENCH_ONLY or --only (relay,ceiling,service,growth),
// BENCH_GROWTH_MESSAGES (1000000), BENCH_GROWTH_REPS (5),
// BENCH_WARMUP (500 unmeasured MOs per system first), BENCH_OUT (bench/last-result.json), BENCH_TIMEOUT_MINUTES (15), BENCH_PG_URL (the database
// the bench's own one is created next to; default the local test database), BENCH_KEEP_TMP=1
// (keep the children's logs and data), TEMPORAL_CLI_PATH, BENCH_CEILING_WORKER_OPTIONS,
// BENCH_CLIENT (http: Node's http.Agent; undici: an undici Pool), BENCH_TENANTS (1; 0 skips the
// two-tenant scenario, `only` runs it alone on the service), BENCH_TENANT_FLOOD (1500),
// BENCH_TENANT_SLOW_MS (3000).
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchMessage, type KeywordCandidate } from '../src/domain/matching.js';
import { sampleHistories, spread } from './lib/history.js';
import { agentSend, burst, byId, countDeliveries, drain, httpSend, idle, makeMos, openPool, pct, type KeyOf, type Send } from './lib/load.js';
import { formatTenants, runTenants, type TenantsResult } from './lib/tenants.js';
import {
  adoptTemporalDevServer,
  CLK_TCK,
  cpuSeconds,
  killAllChildrenNow,
  postgresCpu,
  postgresCpuDelta,
  startChild,
  stopAllChildren,
  type Child,
} from './lib/proc.js';
import { messageKey, startReceiver, type Receiver } from './lib/receiver.js';
import { formatJudgement, formatTable, judge, type Cpu, type ScenarioResult } from './lib/report.js';
import { formatGrowth, GROWTH_SHAPE, growthVerdicts, loadGrowth, setUpGrowthAccount, timeReads, type GrowthResult } from './lib/growth.js';
import { checkOutbox, createDatabase, setUpAccount, startSmtpSink } from './lib/service.js';
import { connectService, startSmsc } from './lib/smsc.js';

const intEnv = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
};
const N = intEnv('BENCH_MESSAGES', 3000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 64);
const SYSTEMS = ['relay', 'ceiling', 'service'] as const;
type SystemName = (typeof SYSTEMS)[number];
/** The systems, then the data-growth scenario (its own service and database). */
const PARTS = [...SYSTEMS, 'growth'] as const;
/** `--only growth` or `--only=relay,service` on the command line, else BENCH_ONLY. */
const onlyArg = (() => {
  const at = process.argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  return at < 0 ? undefined : process.argv[at]!.includes('=') ? process.argv[at]!.split('=')[1] : process.argv[at + 1];
})();
const ONLY = new Set((onlyArg ?? process.env.BENCH_ONLY ?? PARTS.join(',')).split(',').map((s) => s.trim()).filter(Boolean));
for (const s of ONLY) if (!(PARTS as readonly string[]).includes(s)) throw new Error(`BENCH_ONLY / --only: unknown part "${s}" (${PARTS.join(', ')})`);
const GROWTH = { ...GROWTH_SHAPE, messages: intEnv('BENCH_GROWTH_MESSAGES', GROWTH_SHAPE.messages) };
const GROWTH_REPS = intEnv('BENCH_GROWTH_REPS', 5);
/** the growth account's two numbers: the second takes a tenth of its MOs */
const GROWTH_NUMBERS = { main: '+15555550200', second: '+15555550201' };
const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT = resolve(REPO, process.env.BENCH_OUT ?? 'bench/last-result.json');
const TIMEOUT_MS = intEnv('BENCH_TIMEOUT_MINUTES', 30) * 60_000;
const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const KEEP_TMP = process.env.BENCH_KEEP_TMP === '1';
const CLI = process.env.TEMPORAL_CLI_PATH ?? 'temporal';
/** the load generator's HTTP client: Node's http.Agent (the plain one a carrier's client is), or an undici Pool */
const CLIENT = process.env.BENCH_CLIENT === 'undici' ? 'undici' : 'http';
/** the two-tenant scenario after the service's own (lib/tenants.ts); BENCH_TENANTS=0 skips it */
const TENANTS = process.env.BENCH_TENANTS !== '0';
const TENANT_FLOOD = intEnv('BENCH_TENANT_FLOOD', 1500);
const TENANT_SLOW_MS = intEnv('BENCH_TENANT_SLOW_MS', 3000);
const TOKENS = { admin: 'bench-admin-token', ingest: 'bench-ingest-token' };
/** the business's US long code; customers are +15551000000 … (lib/load.ts) */
const NUMBER = '+15555550100';
const IDLE = { count: 30, gapMs: 150, waitMs: 10_000, capMs: 90_000 };
/** after a burst: until every webhook is in, or none came for quietMs, at most capMs */
const DRAIN = { quietMs: 30_000, capMs: 240_000 };
/** how long the service may take to bind to the bench's SMSC, and to let the bind go */
const SMPP_BIND = { bindMs: 30_000, unbindMs: 10_000 };
const HISTORY_SAMPLES = 20;
const NAMESPACE = 'default';

const t0 = performance.now();
const say = (line: string) => console.log(`[bench +${((performance.now() - t0) / 1000).toFixed(0)}s] ${line}`);

// ---------------------------------------------------------------------------------------------
// Clean-up: children first (a service must stop its dev server before its database goes),
// then what the bench itself holds, last registered first. Runs once, whatever ends the bench.

const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | null = null;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await stopAllChildren();
    for (const c of cleanups.reverse()) await c().catch((e) => console.error(`clean-up: ${String(e)}`));
  })();
  return cleaning;
}
process.once('exit', killAllChildrenNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the children and cleaning up`);
    void report(signal).finally(() => cleanUp().finally(() => process.exit(130)));
  });
}
setTimeout(() => {
  const why = `hard timeout: the bench ran for ${TIMEOUT_MS / 60_000} min (BENCH_TIMEOUT_MINUTES)`;
  console.error(`\n${why}; stopping`);
  // Clean-up is bounded too (a child that ignores SIGINT is SIGKILLed by its own stop); this is the backstop.
  setTimeout(() => process.exit(1), 90_000).unref();
  void report(why).finally(() => cleanUp().finally(() => process.exit(1)));
}, TIMEOUT_MS).unref();

// ---------------------------------------------------------------------------------------------

function benchMatching(): number {
  const candidates: KeywordCandidate[] = Array.from({ length: 50 }, (_, i) => ({
    configId: `c${i}`, phrase: i % 2 ? `OFFER ${i}` : `OFFER`, keyword: 'OFFER', expiresAt: i % 7 ? null : new Date(0),
  }));
  const messages = ['offer 17 please', 'OFFER now', 'offer   3 x y z', 'nothing here'];
  const rounds = 200_000;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) matchMessage({ message: messages[i & 3]!, candidates, defaultConfigId: 'd', receivedAt: new Date() });
  return Math.round(rounds / ((performance.now() - start) / 1000));
}

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => ok(port));
    });
  });
}

/** The children get a clean environment: nothing of the caller's (a DATABASE_URL, a TEMPORAL_ADDRESS) leaks in. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ'];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k]) env[k] = process.env[k]!;
  return { ...env, ...extra };
}

type Scenario = {
  label: string;
  keyword: 'WIN' | 'MIX';
  /** MO ids are `<prefix>-b-<i>` (burst) and `<prefix>-i-<i>` (idle) */
  prefix: string;
  /** how the MOs come in: POST /v1/inbound (the default), or deliver_sm from the bench's SMSC */
  via?: 'smpp';
  /** checks after the scenario, given how many MOs it sent */
  after?: (sent: number) => Promise<Pick<ScenarioResult, 'outbox' | 'emailsReceived'>>;
};

type System = {
  name: SystemName;
  child: Child;
  base: string;
  temporal: { pid: number; address: string } | null;
  workflowIdOf: ((moId: string) => string) | null;
  /** PostgreSQL's CPU is read only for the system that uses it */
  usesPostgres: boolean;
  childStats: (() => Promise<Record<string, number>>) | null;
  scenarios: Scenario[];
};

type Ctx = { tmp: string; receiver: Receiver };

/**
 * "ready" at the start of a line, after a "[name] " prefix, or as the message of a JSON log line
 * (the service's, runtime/logger.ts), as the three systems print it.
 */
const READY = /(^|\] |"msg":")ready\b/m;

async function startRelay(ctx: Ctx): Promise<System> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = await startChild({
    name: 'naive relay', script: 'bench/naive-relay.ts', cwd: REPO, logFile: join(ctx.tmp, 'relay.log'),
    env: childEnv({ PORT: String(port), INGEST_TOKEN: TOKENS.ingest, RECEIVER_URL: ctx.receiver.url }),
    ready: READY, readyTimeoutMs: 30_000, stopTimeoutMs: 10_000,
  });
  return {
    name: 'relay', child, base, temporal: null, workflowIdOf: null, usesPostgres: false, childStats: () => fetchStats(base),
    scenarios: [{ label: 'relay', keyword: 'WIN', prefix: 'relay' }],
  };
}

async function startCeiling(ctx: Ctx): Promise<System> {
  const [port, devPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const child = await startChild({
    name: 'Temporal ceiling', script: 'bench/temporal-ceiling.ts', cwd: REPO, logFile: join(ctx.tmp, 'ceiling.log'),
    env: childEnv({
      PORT: String(port), INGEST_TOKEN: TOKENS.ingest, RECEIVER_URL: ctx.receiver.url, DATA_DIR: join(ctx.tmp, 'ceiling'),
      TEMPORAL_DEV_PORT: String(devPort), TEMPORAL_DEV_UI_PORT: String(uiPort), TEMPORAL_CLI_PATH: CLI,
      ...(process.env.BENCH_CEILING_WORKER_OPTIONS ? { BENCH_CEILING_WORKER_OPTIONS: process.env.BENCH_CEILING_WORKER_OPTIONS } : {}),
    }),
    ready: READY, readyTimeoutMs: 120_000, stopTimeoutMs: 30_000,
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    name: 'ceiling', child, base, usesPostgres: false,
    temporal: { pid: adoptTemporalDevServer(child), address: `127.0.0.1:${devPort}` },
    workflowIdOf: (id) => `c-${id}`,
    childStats: () => fetchStats(base),
    scenarios: [{ label: 'ceiling', keyword: 'WIN', prefix: 'ceil' }],
  };
}

async function startService(ctx: Ctx): Promise<System> {
  const db = await createDatabase(PG_ADMIN_URL);
  cleanups.push(db.drop);
  const smtp = await startSmtpSink();
  cleanups.push(smtp.close);
  const [port, devPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  say(`service: database ${db.name}, SMTP ${smtp.url}; starting src/main.ts`);
  const child = await startChild({
    name: 'service (src/main.ts)', script: 'src/main.ts', cwd: REPO, logFile: join(ctx.tmp, 'service.log'),
    env: childEnv({
      DATA_DIR: join(ctx.tmp, 'service'), DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1',
      TEMPORAL_DEV_PORT: String(devPort), TEMPORAL_DEV_UI_PORT: String(uiPort), TEMPORAL_CLI_PATH: CLI,
      ADMIN_TOKEN: TOKENS.admin, INGEST_TOKEN: TOKENS.ingest, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', SMTP_URL: smtp.url,
    }),
    // The first start bundles the workflows and may wait up to 60 s for its dev server.
    ready: READY, readyTimeoutMs: 180_000, stopTimeoutMs: 60_000,
  });
  const base = `http://127.0.0.1:${port}`;
  const temporal = { pid: adoptTemporalDevServer(child), address: `127.0.0.1:${devPort}` };
  const account = await setUpAccount(base, TOKENS.admin, NUMBER, ctx.receiver.url);
  say(`service: account ${account.sid}, number ${NUMBER}, keywords WIN and MIX`);
  return {
    name: 'service', child, base, temporal, usesPostgres: true, childStats: null,
    workflowIdOf: (id) => `mo-${id}`,
    scenarios: [
      { label: 'service WIN (webhook)', keyword: 'WIN', prefix: 'win' },
      {
        label: 'service MIX (reply+email+webhook)', keyword: 'MIX', prefix: 'mix',
        after: async (sent) => ({ outbox: await checkOutbox(db.url, account.sid, sent), emailsReceived: smtp.received() }),
      },
      // Last, so that the HTTP scenarios run as they did before it was added.
      { label: 'service SMPP WIN (deliver_sm)', keyword: 'WIN', prefix: 'smpp', via: 'smpp' },
    ],
  };
}

/** The reference systems' own counters (GET /stats of lib/front-door.ts). */
async function fetchStats(base: string): Promise<Record<string, number>> {
  return (await fetch(`${base}/stats`)).json() as Promise<Record<string, number>>;
}

const STARTERS: Record<SystemName, (ctx: Ctx) => Promise<System>> = { relay: startRelay, ceiling: startCeiling, service: startService };

/**
 * The data-growth scenario: the service as `npm start` runs it, on a fresh database of its
 * own, the account set up through the API, then GROWTH MOs (and their deliveries, outbox
 * rows and consent changes) loaded straight into the database with SQL, and each read timed
 * through the HTTP API (lib/growth.ts). RETENTION_DAYS is past the history's 120 days, so
 * that the retention schedule prunes none of it while it is measured.
 */
async function runGrowth(ctx: Ctx): Promise<GrowthResult> {
  const db = await createDatabase(PG_ADMIN_URL);
  cleanups.push(db.drop);
  const [port, devPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  say(`growth: database ${db.name}; starting src/main.ts`);
  const child = await startChild({
    name: 'service (growth)', script: 'src/main.ts', cwd: REPO, logFile: join(ctx.tmp, 'growth.log'),
    env: childEnv({
      DATA_DIR: join(ctx.tmp, 'growth'), DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1',
      TEMPORAL_DEV_PORT: String(devPort), TEMPORAL_DEV_UI_PORT: String(uiPort), TEMPORAL_CLI_PATH: CLI,
      ADMIN_TOKEN: TOKENS.admin, INGEST_TOKEN: TOKENS.ingest, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', RETENTION_DAYS: '3650', TEMPORAL_METRICS_PORT: '0',
    }),
    ready: READY, readyTimeoutMs: 180_000, stopTimeoutMs: 60_000,
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const account = await setUpGrowthAccount(base, TOKENS.admin, GROWTH_NUMBERS, GROWTH.keywords);
    say(`growth: account ${account.sid}; loading ${GROWTH.messages.toLocaleString('en-US')} MOs with SQL`);
    const load = await loadGrowth(db.url, account, GROWTH);
    say(`growth: loaded in ${load.seconds.toFixed(1)} s (${JSON.stringify(load.rows)}); timing the reads, ${GROWTH_REPS} times each`);
    const timed = await timeReads(base, account, load, GROWTH_REPS, say);
    return { shape: GROWTH, load, repetitions: GROWTH_REPS, ...timed };
  } catch (e) {
    throw new Error(`growth: ${e instanceof Error ? e.message : String(e)} (log: ${child.logFile})`, { cause: e });
  } finally {
    say('growth: stopping');
    await child.stop();
    found.logs.growth = await scanLog(child.logFile);
  }
}

// ---------------------------------------------------------------------------------------------

type CpuReading = { process: number | null; temporal: number | null; postgres: Map<number, number> | null; bench: number };

function readCpu(sys: System): CpuReading {
  const own = process.cpuUsage();
  return {
    process: cpuSeconds(sys.child.pid),
    temporal: sys.temporal ? cpuSeconds(sys.temporal.pid) : null,
    postgres: sys.usesPostgres ? postgresCpu() : null,
    bench: (own.user + own.system) / 1e6,
  };
}

function cpuPer1000(a: CpuReading, b: CpuReading, messages: number): Cpu {
  const per = (x: number | null, y: number | null) => (x === null || y === null ? null : ((y - x) / messages) * 1000);
  return {
    process: per(a.process, b.process),
    temporal: per(a.temporal, b.temporal),
    postgres: a.postgres && b.postgres ? (postgresCpuDelta(a.postgres, b.postgres) / messages) * 1000 : null,
    bench: per(a.bench, b.bench),
  };
}

/**
 * A process that has just started runs its code cold (no JIT yet, pools not opened): each
 * system first takes WARMUP MOs at the burst's concurrency, unmeasured. The relay and the
 * ceiling deliver theirs, and are measured only once those are in; the service matches them
 * to no keyword (`WARMUP`), so they start no run.
 */
async function warmUp(sys: System, receiver: Receiver): Promise<void> {
  if (WARMUP === 0) return;
  const mos = makeMos('warmup', 0, WARMUP, NUMBER, 'WARMUP');
  const client = httpClient(sys.base, CONCURRENCY);
  try {
    say(`${sys.name}: warm-up, ${WARMUP} MOs (not measured)`);
    await burst(client.send, mos, CONCURRENCY);
    if (sys.name !== 'service') await drain(receiver, mos.map((m) => m.id), DRAIN);
  } finally {
    await client.close();
  }
  await settle(sys);
}

/**
 * Waits (at most 20 s) until the system and its Temporal server use less than a tenth of a
 * core, so that what they do just after starting (a dev server's own start-up work, a
 * bundle, garbage) is not measured as the burst's cost.
 */
async function settle(sys: System): Promise<void> {
  const busy = (a: CpuReading, b: CpuReading) => (b.process ?? 0) - (a.process ?? 0) + ((b.temporal ?? 0) - (a.temporal ?? 0));
  const deadline = performance.now() + 20_000;
  for (;;) {
    const a = readCpu(sys);
    await new Promise((r) => setTimeout(r, 1000));
    const used = busy(a, readCpu(sys));
    if (used < 0.1 || performance.now() > deadline) {
      say(`${sys.name}: settled (${used.toFixed(2)} CPU s in the last second)`);
      return;
    }
  }
}

/** Where a scenario's MOs go in, and the key their webhooks are filed under at the receiver. */
type Front = {
  send: Send;
  key: KeyOf;
  /** the front's own counters, read after the scenario */
  stats: (() => Promise<Record<string, number> | null>) | null;
  close: () => Promise<void>;
};

/** POST /v1/inbound over `connections` keep-alive connections, with the client BENCH_CLIENT names. */
function httpClient(base: string, connections: number): { send: Send; close: () => Promise<void> } {
  if (CLIENT === 'http') return agentSend(base, TOKENS.ingest, connections);
  const pool = openPool(base, connections);
  return { send: httpSend(pool, TOKENS.ingest), close: () => pool.close() };
}

function httpFront(sys: System): Front {
  const client = httpClient(sys.base, CONCURRENCY);
  return { send: client.send, key: byId, stats: null, close: client.close };
}

/**
 * An SMSC on 127.0.0.1 that the service binds to (a connection made through its admin API),
 * then left to settle as after the warm-up. The service makes an SMPP MO's id itself, so the
 * webhooks are matched by text (runScenario makes it unique).
 */
async function smppFront(sys: System): Promise<Front> {
  const smsc = await startSmsc({ systemId: 'bench', password: 'benchpw' });
  cleanups.push(smsc.close);
  try {
    const connection = await connectService(sys.base, TOKENS.admin, smsc, SMPP_BIND.bindMs);
    say(`SMPP: the service bound to the bench's SMSC 127.0.0.1:${smsc.port} (${smsc.boundWith()})`);
    await settle(sys);
    return {
      send: (mo) => smsc.deliver(mo),
      key: (mo) => messageKey(mo.message),
      stats: connection.counters,
      close: async () => {
        await connection.remove(SMPP_BIND.unbindMs).catch((e) => say(`SMPP: ${String(e)}`));
        await smsc.close();
      },
    };
  } catch (e) {
    await smsc.close();
    throw e;
  }
}

/** Burst, wait for its webhooks, idle singles, then the per-run costs and the system's own checks. */
async function runScenario(sys: System, sc: Scenario, receiver: Receiver): Promise<ScenarioResult> {
  const front = sc.via === 'smpp' ? await smppFront(sys) : httpFront(sys);
  // Over SMPP the text is the webhook's key: `<keyword> <MO id>`, unique in the run (HTTP
  // scenarios send `<keyword> bench <i>`).
  const make = (tag: string, from: number, count: number) =>
    makeMos(`${sc.prefix}-${tag}`, from, count, NUMBER, sc.keyword).map((m) => (sc.via === 'smpp' ? { ...m, message: `${sc.keyword} ${m.id}` } : m));
  const mos = make('b', 0, N);
  const idleMos = make('i', N, IDLE.count);
  try {
    say(`${sc.label}: burst of ${N} MOs, ${CONCURRENCY} in flight`);
    const before = readCpu(sys);
    let after = before;
    const b = await burst(front.send, mos, CONCURRENCY, front.key);
    say(`${sc.label}: acknowledged in ${b.seconds.toFixed(1)} s (${JSON.stringify(b.statuses)}); waiting for the webhooks`);
    const d = await drain(receiver, mos.map(front.key), {
      ...DRAIN,
      // CPU is read at most one tick (50 ms) after the latest webhook.
      onArrivals: () => (after = readCpu(sys)),
      progress: (n) => say(`${sc.label}: ${n} of ${N} webhooks in`),
    });
    if (!sys.child.running()) throw new Error(`${sys.child.name} exited while being measured`);
    const inBurst = countDeliveries(receiver, b.sent);
    say(`${sc.label}: ${inBurst.delivered} of ${N} webhooks in (wait ended: ${d.ended}); ${IDLE.count} idle MOs`);
    const i = await idle(front.send, idleMos, receiver, IDLE, front.key);

    // Over SMPP the service makes the MO ids (and so the workflow ids): no histories are read.
    const history = sys.workflowIdOf && sys.temporal && sc.via !== 'smpp'
      ? await sampleHistories(sys.temporal.address, NAMESPACE, spread(mos, HISTORY_SAMPLES).map((m) => sys.workflowIdOf!(m.id)))
      : null;
    const extra = sc.after ? await sc.after(b.sent.size + i.sent.size) : { outbox: null, emailsReceived: null };
    const all = countDeliveries(receiver, new Map([...b.sent, ...i.sent]));
    const idleIn = countDeliveries(receiver, i.sent);
    return {
      system: sys.name,
      scenario: sc.label,
      ingest: sc.via ?? 'http',
      keyword: sc.keyword,
      messages: N,
      concurrency: CONCURRENCY,
      statuses: b.statuses,
      outcomes: b.outcomes,
      ackRate: N / b.seconds,
      ackP50: pct(b.ackMs, 50),
      ackP99: pct(b.ackMs, 99),
      // delivered, not N: with losses the rate is of what did get through
      processedRate: inBurst.lastArrival === null ? null : inBurst.delivered / ((inBurst.lastArrival - b.firstStart) / 1000),
      e2eP50: pct(inBurst.e2eMs, 50),
      e2eP99: pct(inBurst.e2eMs, 99),
      drain: { ended: d.ended, seconds: d.seconds, deliveredAtEnd: inBurst.delivered },
      idle: { sent: i.sent.size, received: idleIn.delivered, p50: pct(i.e2eMs, 50), p99: pct(i.e2eMs, 99) },
      lost: all.lost,
      duplicated: all.duplicated,
      cpuPer1000: cpuPer1000(before, after, N),
      history,
      ...extra,
      childStats: front.stats
        ? await front.stats().catch(() => null)
        : sys.childStats ? await sys.childStats().catch(() => null) : null,
    };
  } finally {
    await front.close();
  }
}

type LogFindings = { file: string; lines: number; suspicious: number; examples: string[] };

/** Lines of a child's log that look like trouble, for the report (the log itself is removed). */
async function scanLog(file: string): Promise<LogFindings> {
  const text = await readFile(file, 'utf8').catch(() => '');
  // The SDK's core logs in colour; the escapes would only clutter the examples.
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter(Boolean);
  const bad = lines.filter((l) => /\b(errors?|failed|failure|warn|warning|exception|refused|unreachable|timeout|timed out)\b/i.test(l));
  return { file, lines: lines.length, suspicious: bad.length, examples: [...new Set(bad.map((l) => l.slice(0, 300)))].slice(0, 8) };
}

function describeRun() {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    clkTck: CLK_TCK,
    temporalCli: sh(CLI, ['--version']),
    commit: sh('git', ['rev-parse', '--short', 'HEAD']),
    uncommittedFiles: sh('git', ['status', '--porcelain'])?.split('\n').filter(Boolean).length ?? null,
    messages: N,
    concurrency: CONCURRENCY,
    client: CLIENT,
    systems: PARTS.filter((s) => ONLY.has(s)),
  };
}

/** What the run has found so far: reported at its end, or as far as it got when it fails. */
const found = {
  run: describeRun(),
  matchingPerSecond: 0,
  results: [] as ScenarioResult[],
  tenants: null as TenantsResult | null,
  logs: {} as Partial<Record<SystemName | 'growth', LogFindings>>,
  growth: null as GrowthResult | null,
  tmp: null as string | null,
  receiver: null as Receiver | null,
  /** why the run did not finish; its children's logs are then kept */
  failure: null as string | null,
};

async function main(): Promise<void> {
  const { run } = found;
  say(`node ${run.node}, ${run.cpus} cores, ${run.temporalCli ?? 'temporal CLI ?'}; commit ${run.commit} (+${run.uncommittedFiles} uncommitted files)`);
  found.matchingPerSecond = benchMatching();
  console.log(`matching (pure, 50 candidates for the first word): ${found.matchingPerSecond.toLocaleString('en-US')} messages/s`);

  const tmp = (found.tmp = await mkdtemp(join(tmpdir(), 'inbound-sms-bench-')));
  cleanups.push(() => (KEEP_TMP || found.failure ? Promise.resolve(console.error(`logs and data kept in ${tmp}`)) : rm(tmp, { recursive: true, force: true })));
  const receiver = (found.receiver = await startReceiver());
  cleanups.push(receiver.close);
  const ctx: Ctx = { tmp, receiver };

  for (const name of SYSTEMS) {
    if (!ONLY.has(name)) continue;
    say(`${name}: starting`);
    const sys = await STARTERS[name](ctx);
    say(`${name}: ready (pid ${sys.child.pid}${sys.temporal ? `, Temporal dev server pid ${sys.temporal.pid}` : ''})`);
    try {
      await warmUp(sys, receiver);
      const tenantsOnly = name === 'service' && process.env.BENCH_TENANTS === 'only';
      if (!tenantsOnly) for (const sc of sys.scenarios) found.results.push(await runScenario(sys, sc, receiver));
      if (name === 'service' && TENANTS) {
        const [flood, singles] = [httpClient(sys.base, CONCURRENCY), httpClient(sys.base, 4)];
        try {
          found.tenants = await runTenants({
            base: sys.base, adminToken: TOKENS.admin, receiver, send: flood.send, sendB: singles.send,
            concurrency: CONCURRENCY, say, floodCount: TENANT_FLOOD, slowMs: TENANT_SLOW_MS,
          });
        } finally {
          await flood.close();
          await singles.close();
        }
      }
    } catch (e) {
      throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)} (log: ${sys.child.logFile})`, { cause: e });
    } finally {
      say(`${name}: stopping`);
      await sys.child.stop();
      found.logs[name] = await scanLog(sys.child.logFile);
    }
  }
  if (ONLY.has('growth')) found.growth = await runGrowth(ctx);
}

let reported: Promise<void> | null = null;
/** Prints the table, the ratios and the targets, and writes the JSON; once. */
function report(failure: string | null): Promise<void> {
  reported ??= (async () => {
    found.failure ??= failure;
    const { results, logs } = found;
    console.log('');
    if (results.length) console.log(formatTable(results));
    const judgement = judge(results);
    if (found.growth) {
      console.log('');
      console.log(formatGrowth(found.growth));
      judgement.verdicts.push(...growthVerdicts(found.growth));
    }
    console.log('');
    console.log(formatJudgement(judgement));
    console.log('');
    if (found.tenants) {
      console.log(formatTenants(found.tenants));
      console.log('');
    }
    for (const [name, l] of Object.entries(logs)) {
      console.log(`${name} log: ${l.lines} lines, ${l.suspicious} mention an error, failure or warning${l.examples.length ? ':' : ''}`);
      for (const ex of l.examples) console.log(`    ${ex}`);
    }
    if (found.receiver?.unreadable) console.log(`receiver: ${found.receiver.unreadable} deliveries without a readable id`);
    const { receiver: _receiver, ...rest } = found;
    await mkdir(dirname(OUT), { recursive: true });
    await writeFile(OUT, JSON.stringify({ ...rest, ...judgement }, null, 2) + '\n');
    console.log(`\nfull result: ${OUT}`);
    if (found.failure) console.error(`\nthe bench did not finish: ${found.failure}`);
  })();
  return reported;
}

let failure: string | null = null;
try {
  await main();
} catch (e) {
  failure = e instanceof Error ? e.message : String(e);
}
await report(failure);
await cleanUp();
process.exit(failure ? 1 : 0);
