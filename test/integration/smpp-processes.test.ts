// SPEC §8 under `npm run api`, as deployed: two real API processes on one database, one SMSC.
// Exactly one of them binds; when it stops, the other takes the bind and the next MO.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import postgres from 'postgres';
import smpp from 'smpp';
import type { PDU, Session } from 'smpp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { startTemporal } from '../helpers/temporal.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tag = randomBytes(4).toString('hex');
const dbName = `smpp_${tag}`;
const adminToken = randomBytes(16).toString('hex');

type Proc = { name: string; child: ChildProcess; output: string[]; exit: Promise<void>; base: string };
const procs: Proc[] = [];
let env: TestWorkflowEnvironment;
let admin: postgres.Sql;
let sql: postgres.Sql;
let dataDir: string;
let passed = false;

// The SMSC: accepts any bind, counts binds open at once, sends MOs to the bound ESME.
let bound: Session | null = null;
let binds = 0;
let open = 0;
let maxOpen = 0;
const smsc = smpp.createServer((session: Session) => {
  session.on('error', () => {});
  const onBind = (pdu: PDU) => {
    session.send(pdu.response());
    bound = session;
    binds++;
    maxOpen = Math.max(maxOpen, ++open);
    session.on('close', () => {
      open--;
      if (bound === session) bound = null;
    });
  };
  session.on('bind_transceiver', onBind);
  session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
  session.on('unbind', (pdu: PDU) => {
    session.send(pdu.response());
    session.close();
  });
});

function deliver(text: string, recipient: string): Promise<number> {
  const session = bound!;
  return new Promise((resolve) => {
    session.send(new smpp.PDU('deliver_sm', { source_addr: '+919812345678', destination_addr: recipient, data_coding: 1, short_message: Buffer.from(text) }), (r: PDU) => resolve(r.command_status));
  });
}

function spawnApi(name: string, vars: Record<string, string>, base: string): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...vars }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean).map((l) => `[${name}] ${l}`));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exit = new Promise<void>((r) => child.once('exit', () => r()));
  const p = { name, child, output, exit, base };
  procs.push(p);
  return p;
}

async function until(what: string, ready: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${procs.flatMap((p) => p.output).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const call = async (p: Proc, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${p.base}/v1/admin${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
};

beforeAll(async () => {
  env = await startTemporal();
  await new Promise<void>((r) => smsc.listen(0, '127.0.0.1', () => r()));
  dataDir = await mkdtemp(join(tmpdir(), 'inbound-sms-smpp-'));
  admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${dbName}`;
  sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
  const shared = {
    DATABASE_URL: url.toString(), TEMPORAL_ADDRESS: env.address, TEMPORAL_TASK_QUEUE: `smpp-${tag}`, HOST: '127.0.0.1',
    ADMIN_TOKEN: adminToken, INGEST_TOKEN: randomBytes(16).toString('hex'),
    SECRETS_KEY: randomBytes(32).toString('base64'), PAYLOAD_KEY: randomBytes(32).toString('base64'), SMS_PROVIDER: 'log',
  };
  for (const n of [1, 2]) {
    const port = await freePort();
    const p = spawnApi(`api${n}`, { ...shared, PORT: String(port), DATA_DIR: join(dataDir, `api${n}`) }, `http://127.0.0.1:${port}`);
    await until(`${p.name} /health`, () => fetch(`${p.base}/health`).then((r) => r.ok, () => false));
  }
}, 120_000);

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exit));
  if (!passed) console.error(procs.flatMap((p) => p.output).join('\n'));
  for (const s of smsc.sessions) s.socket.destroy();
  await new Promise((r) => smsc.close(() => r(null)));
  await env?.teardown();
  await sql?.end({ timeout: 5 });
  if (admin) {
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${dbName}`;
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName}`);
    await admin.end();
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('two API processes: one binds; when it stops the other takes the bind and the next MO', async () => {
  const [api1, api2] = procs as [Proc, Proc];
  const port = (smsc.address() as AddressInfo).port;
  const created = await call(api1, 'POST', '/smpp-connections', { name: 'smsc', host: '127.0.0.1', port, system_id: 'esme', password: 'pw' });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await until('a bind', () => bound !== null);
  await new Promise((r) => setTimeout(r, 6000)); // more than a tick of both processes
  expect(binds).toBe(1);
  expect(maxOpen).toBe(1);

  // Either process shows the bind's state: live from the holder, from its lease row otherwise
  // (which the holder writes once a tick).
  let seen: Awaited<ReturnType<typeof call>>[] = [];
  await until('the bound state in both processes', async () => {
    seen = await Promise.all([api1, api2].map((p) => call(p, 'GET', `/smpp-connections/${id}`)));
    return seen.every((s) => s.body.state?.state === 'bound');
  }, 15_000);
  for (const s of seen) expect(s.body.state).toMatchObject({ state: 'bound' });
  const holderPid = Number(String(seen[0]!.body.state.holder).split(':')[1]);
  const holder = procs.find((p) => p.child.pid === holderPid)!;
  expect(holder).toBeDefined();

  await sql`INSERT INTO numbers (number, kind) VALUES ('+15555550123', 'long_code')`;
  expect(await deliver('hello one', '+15555550123')).toBe(0);

  holder.child.kill('SIGTERM'); // gives its lease back as it stops
  await holder.exit;
  await until('a rebind by the other process', () => binds === 2 && bound !== null, 30_000);
  expect(await deliver('hello two', '+15555550123')).toBe(0);
  const rows = await sql<{ message: string }[]>`SELECT message FROM inbound_messages WHERE recipient = '+15555550123' ORDER BY seq`;
  expect(rows.map((r) => r.message)).toEqual(['hello one', 'hello two']);
  expect(maxOpen).toBe(1);
  passed = true;
});
