// Issue 10, part 7: `npm start` as a user runs it. From an empty data dir (the embedded
// PostgreSQL and the Temporal dev server it starts), wait for /ready, follow the README's curl
// walkthrough to a webhook, Ctrl-C (SIGINT to the process group, as a terminal sends it) and
// find nothing left running; start again on the same data dir, find the data and the run, and
// stop with SIGTERM to npm's pid alone, as a service manager does. Issue 16: Ctrl-C with runs in
// flight (auto reply, subscribe, a webhook answering 503, 503, 200) exits 0 within the 10 s
// shutdown deadline, three times in a row on the same data; kill -9 of the whole group leaves
// nothing running, and the next start on the same data serves, finishing the runs in flight.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Receiver } from '../helpers/http.js';
import { freePort } from '../helpers/net.js';
import { temporalCliPath } from '../helpers/temporal.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The first start runs initdb and bundles the workflows: on a busy two-core machine, a while.
const START_TIMEOUT_MS = 150_000;
const STOP_TIMEOUT_MS = 60_000;

/** A process seen under `npm start`, to check it is gone once npm has exited. */
type Seen = { pid: number; cmdline: string };
type Run = { child: ChildProcess; stdout: string[]; stderr: string[]; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; seen: Map<number, Seen> };

let dataDir: string;
let hooks: Receiver;
let ports: Record<'PORT' | 'EMBEDDED_PG_PORT' | 'TEMPORAL_DEV_PORT' | 'TEMPORAL_DEV_UI_PORT' | 'TEMPORAL_METRICS_PORT', number>;
const runs: Run[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'inbound-sms-npm-start-'));
  // mkdtemp makes it 700; as root, the embedded PostgreSQL runs as a user of its own that must
  // reach DATA_DIR/postgres.
  await chmod(dataDir, 0o755);
  hooks = await new Receiver().start();
  ports = {
    PORT: await freePort(),
    EMBEDDED_PG_PORT: await freePort(),
    TEMPORAL_DEV_PORT: await freePort(),
    TEMPORAL_DEV_UI_PORT: await freePort(),
    TEMPORAL_METRICS_PORT: await freePort(),
  };
});

afterAll(async () => {
  // Only when the test failed half way: whatever is still running goes.
  for (const run of runs) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      try {
        process.kill(-run.child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const p of stillRunning(run)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  await hooks?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `npm start` in a process group of its own (as a shell runs a foreground job), with only the environment a user would have. */
function npmStart(): Run {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATA_DIR: dataDir,
      TEMPORAL_CLI_PATH: temporalCliPath(),
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      // Set and empty, so that a developer's .env cannot point this run elsewhere.
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      // A stop past this deadline exits 1: an exit 0 says it stopped within 10 s.
      SHUTDOWN_TIMEOUT_SECONDS: '10',
    },
  });
  const run: Run = {
    child,
    stdout: [],
    stderr: [],
    seen: new Map(),
    exit: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    run.stdout.push(...lines);
  });
  child.stdout!.on('end', () => partial && run.stdout.push(partial));
  child.stderr!.on('data', (d: Buffer) => run.stderr.push(d.toString()));
  runs.push(run);
  return run;
}

function transcript(run: Run): string {
  return `--- stdout\n${run.stdout.join('\n')}\n--- stderr\n${run.stderr.join('')}`;
}

/** Every process under npm's pid, now: the service, the embedded PostgreSQL and its backends, the dev server. */
function recordDescendants(run: Run): void {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const queue = [run.child.pid!];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const c of parents.get(pid) ?? []) {
      const cmdline = cmdlineOf(c);
      if (cmdline !== null) run.seen.set(c, { pid: c, cmdline });
      queue.push(c);
    }
  }
}

function processGroup(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return null;
  }
}

function cmdlineOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return null;
  }
}

/** The processes seen under this run that still run (the same pid with the same command line), and any other whose command line names the data dir. */
function stillRunning(run: Run): Seen[] {
  const alive = [...run.seen.values()].filter((p) => cmdlineOf(p.pid) === p.cmdline);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = cmdlineOf(Number(entry));
    if (cmdline?.includes(dataDir) && !alive.some((p) => p.pid === Number(entry))) alive.push({ pid: Number(entry), cmdline });
  }
  return alive;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function waitReady(run: Run, base: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no answer';
  for (;;) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) throw new Error(`npm start exited before /ready:\n${transcript(run)}`);
    const res = await fetch(`${base}/ready`).then(async (r) => ({ status: r.status, text: await r.text() }), (e: Error) => ({ status: 0, text: e.message }));
    if (res.status === 200) {
      // npm start runs the worker too: /ready answers for it.
      expect(JSON.parse(res.text)).toMatchObject({ checks: { postgresql: { ok: true }, temporal: { ok: true }, migrations: { ok: true }, worker: { ok: true } } });
      return;
    }
    last = `${res.status} ${res.text}`;
    if (Date.now() > deadline) throw new Error(`npm start: /ready did not answer 200 within ${START_TIMEOUT_MS} ms (last: ${last}):\n${transcript(run)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Stops a run as `signal` sent to `target` does, and checks it ended as it should (exit 0; for
 * SIGKILL, killed), leaving nothing behind.
 */
async function stopAndCheck(run: Run, signal: NodeJS.Signals, target: 'group' | 'npm'): Promise<void> {
  recordDescendants(run);
  expect([...run.seen.values()].some((p) => p.cmdline.includes(join(dataDir, 'postgres'))), transcript(run)).toBe(true);
  expect([...run.seen.values()].some((p) => p.cmdline.includes(join(dataDir, 'temporal.db'))), transcript(run)).toBe(true);
  // The dev server and PostgreSQL (and their keepers) are out of the terminal's process group:
  // a Ctrl-C reaches only the service, which stops them after its API and worker.
  const inGroup = [...run.seen.values()].filter((p) => p.cmdline.includes(dataDir) && processGroup(p.pid) === run.child.pid);
  expect(inGroup, 'stack processes in the terminal\'s process group').toEqual([]);
  process.kill(target === 'group' ? -run.child.pid! : run.child.pid!, signal);
  const exit = await Promise.race([run.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), STOP_TIMEOUT_MS))]);
  expect(exit, transcript(run)).toEqual(signal === 'SIGKILL' ? { code: null, signal: 'SIGKILL' } : { code: 0, signal: null });
  // Children may take a moment to be reaped after npm's own exit.
  let left = stillRunning(run);
  for (let i = 0; i < 150 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    left = stillRunning(run);
  }
  expect(left, transcript(run)).toEqual([]);
  for (const [name, port] of Object.entries(ports)) expect(await portFree(port), `${name} ${port} still taken`).toBe(true);
}

/**
 * Every stdout line is a JSON log line (SPEC §9), but for the lines npm itself prints before
 * the script (`> name@version start`, `> exec node ...`, a blank line).
 */
function expectJsonLines(run: Run): void {
  const odd = run.stdout.filter((line) => {
    if (line.trim() === '' || line.startsWith('> ')) return false;
    try {
      const parsed = JSON.parse(line);
      return !(parsed && typeof parsed === 'object' && typeof parsed.msg === 'string' && typeof parsed.level === 'string');
    } catch {
      return true;
    }
  });
  expect(odd, 'stdout lines that are not JSON log lines').toEqual([]);
}

type Tokens = { admin: string; ingest: string };
let tokens: Tokens;
let sid: string;
let apiKey: string;
let configId: string;

/** The README's walkthrough, request for request; `curl -d` sends form-encoded content, which the API reads as JSON all the same. */
async function curl(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${ports.PORT}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const ingest = (id: string, message: string) => curl('POST', '/v1/inbound', { authorization: `Bearer ${tokens.ingest}` }, { id, source: '+15551234567', recipient: '+15555550100', message });

/**
 * A keyword whose run replies, subscribes and calls a webhook that answers 503 (2 s late), 503,
 * then 200: at a Ctrl-C 0.3 s after the MO, the first call is in flight, and its run records
 * the answer while the process stops.
 */
async function flakyKeyword(keyword: string): Promise<string> {
  const path = `/flaky-${keyword}`;
  hooks.script(path, [{ status: 503, delayMs: 2000 }, { status: 503 }, { status: 200, body: 'ok' }]);
  const res = await curl('POST', `/v1/${sid}/receive-configs`, { 'api-key': apiKey }, {
    number: '+15555550100',
    keyword,
    auto_reply: { sender: 'ACME', message: 'thanks for <keyword>' },
    subscribe: true,
    trigger: { url: hooks.url(path) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return path;
}

/** Waits for the run of MO `id` to complete, on the dev server of the running start. */
async function waitCompleted(id: string): Promise<void> {
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.TEMPORAL_DEV_PORT}` });
  try {
    const handle = new Client({ connection }).workflow.getHandle(`mo-${id}`);
    let status = (await handle.describe()).status.name;
    for (let i = 0; i < 240 && status === 'RUNNING'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await handle.describe()).status.name;
    }
    expect(status, `mo-${id}`).toBe('COMPLETED');
  } finally {
    await connection.close();
  }
}

it('npm start: from an empty data dir to a webhook, then Ctrl-C', { timeout: 300_000 }, async () => {
  const base = `http://127.0.0.1:${ports.PORT}`;
  const receiverUrl = hooks.url('/mo');

  // First start, on an empty data dir.
  const first = npmStart();
  await waitReady(first, base);
  tokens = JSON.parse(await readFile(join(dataDir, 'dev-tokens.json'), 'utf8')) as Tokens;
  const A = { authorization: `Bearer ${tokens.admin}` };
  const account = await curl('POST', '/v1/admin/accounts', A, { name: 'Acme', country: 'US' });
  expect(account.status, JSON.stringify(account.body)).toBe(201);
  ({ sid, api_key: apiKey } = account.body as { sid: string; api_key: string });
  const K = { 'api-key': apiKey };
  expect((await curl('POST', '/v1/admin/numbers', A, { number: '+15555550100', kind: 'long_code' })).status).toBe(201);
  expect((await curl('POST', '/v1/admin/numbers/%2B15555550100/accounts', A, { sid })).status).toBe(201);
  const config = await curl('POST', `/v1/${sid}/receive-configs`, K, { number: '+15555550100', keyword: 'OFFER', trigger: { url: receiverUrl } });
  expect(config.status, JSON.stringify(config.body)).toBe(201);
  configId = config.body.id;
  // The sender the flaky keywords' auto replies go from.
  expect((await curl('POST', `/v1/${sid}/sender-ids`, K, { sender_id: 'ACME' })).status).toBe(201);
  const mo = await curl('POST', '/v1/inbound', { authorization: `Bearer ${tokens.ingest}` }, { id: 'm1', source: '+15551234567', recipient: '+15555550100', message: 'offer please' });
  expect(mo.status, JSON.stringify(mo.body)).toBe(202);
  expect(mo.body).toMatchObject({ id: 'm1', outcome: 'keyword', workflow_id: 'mo-m1' });

  const [hook] = await hooks.waitFor('/mo', 1, 60_000);
  expect(JSON.parse(hook!.body)).toMatchObject({ id: 'm1', source: '+15551234567', recipient: '+15555550100', message: 'offer please', keyword: 'OFFER' });
  // The run records its webhook once the receiver has answered.
  let log: any = null;
  for (let i = 0; i < 120 && log?.actions?.[0]?.status !== 'succeeded'; i++) {
    if (i) await new Promise((r) => setTimeout(r, 250));
    log = (await curl('GET', `/v1/${sid}/logs/m1`, K)).body;
  }
  expect(log).toMatchObject({ id: 'm1', outcome: 'keyword', workflow_id: 'mo-m1', actions: [{ type: 'trigger', status: 'succeeded' }] });

  // Ctrl-C in the terminal: SIGINT to the whole foreground process group.
  await stopAndCheck(first, 'SIGINT', 'group');
  expectJsonLines(first);

});

it('Ctrl-C with runs in flight exits 0 within the shutdown deadline, three times in a row on the same data', { timeout: 300_000 }, async () => {
  for (const round of [1, 2, 3]) {
    const run = npmStart();
    await waitReady(run, `http://127.0.0.1:${ports.PORT}`);
    if (round === 1) {
      // The data and the first run are there.
      const again = JSON.parse(await readFile(join(dataDir, 'dev-tokens.json'), 'utf8')) as Tokens;
      expect(again).toEqual(tokens);
      const configs = await curl('GET', `/v1/${sid}/receive-configs`, { 'api-key': apiKey });
      expect(configs.status).toBe(200);
      expect(JSON.stringify(configs.body)).toContain(configId);
      // The stop may have come between the action's record and the run's completion: the
      // restarted worker then completes it.
      await waitCompleted('m1');
    }
    await flakyKeyword(`DEAL${round}`);
    const mo = await ingest(`f${round}`, `DEAL${round} please`);
    expect(mo.status, JSON.stringify(mo.body)).toBe(202);
    // Ctrl-C while the run replies, subscribes and calls its webhook.
    await new Promise((r) => setTimeout(r, 300));
    await stopAndCheck(run, 'SIGINT', 'group');
    expectJsonLines(run);
    expect(run.stdout.join('\n')).not.toContain('shutdown deadline');
  }
});

it('kill -9 of the whole group leaves nothing running; the next start on the same data serves and finishes the runs in flight', { timeout: 300_000 }, async () => {
  const killed = npmStart();
  await waitReady(killed, `http://127.0.0.1:${ports.PORT}`);
  await flakyKeyword('DEAL4');
  expect((await ingest('f4', 'DEAL4 please')).status).toBe(202);
  await new Promise((r) => setTimeout(r, 300));
  // As an OOM kill or `kill -9 -<pgid>` does: no handler runs. The keepers stop the children.
  await stopAndCheck(killed, 'SIGKILL', 'group');

  const next = npmStart();
  await waitReady(next, `http://127.0.0.1:${ports.PORT}`);
  const mo = await ingest('m2', 'OFFER again');
  expect(mo.status, JSON.stringify(mo.body)).toBe(202);
  await hooks.waitFor('/mo', 2, 60_000);
  // Every run stopped in flight resumed and finished: its webhook answered 200 at last, its
  // reply and subscription recorded.
  for (const round of [1, 2, 3, 4]) {
    await waitCompleted(`f${round}`);
    const attempts = hooks.to(`/flaky-DEAL${round}`);
    expect(attempts.length, `DEAL${round}`).toBeGreaterThanOrEqual(3);
    const log = await curl('GET', `/v1/${sid}/logs/f${round}`, { 'api-key': apiKey });
    const statuses = Object.fromEntries((log.body.actions as { type: string; status: string }[]).map((a) => [a.type, a.status]));
    expect(statuses, JSON.stringify(log.body)).toMatchObject({ auto_reply: 'succeeded', subscribe: 'succeeded', trigger: 'succeeded' });
  }
  // A service manager (systemd, a container runtime) sends SIGTERM to the main pid: npm's.
  await stopAndCheck(next, 'SIGTERM', 'npm');
  expectJsonLines(next);
});
