import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { generateKey } from '../../src/domain/keyring.js';
import { startTemporalDevServer, type DevServer } from '../../src/runtime/temporal-dev.js';
import { Harness, randomId, SECRETS_KEY } from '../helpers/harness.js';
import { freePort } from '../helpers/net.js';
import { temporalCliPath } from '../helpers/temporal.js';

/**
 * An SMS gateway that honours `Idempotency-Key`, as the `http` provider's contract asks: the
 * first request with a key sends the SMS; a later one with the same key answers what the first
 * did and sends nothing. `hold` keeps the first answer back, as a slow gateway does, so the
 * worker can be killed while its send is in flight.
 */
class IdempotentGateway {
  readonly requests: { key: string; body: string }[] = [];
  readonly delivered: { key: string; to: string; body: string }[] = [];
  private readonly answers = new Map<string, string>();
  hold = true;
  private server: Server | null = null;
  private held: ServerResponse[] = [];
  private firstRequest: (() => void) | null = null;
  readonly arrived = new Promise<void>((r) => (this.firstRequest = r));

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const key = String(req.headers['idempotency-key'] ?? '');
        this.requests.push({ key, body });
        // Without a key every request is a new SMS.
        let answer = key ? this.answers.get(key) : undefined;
        if (answer === undefined) {
          const sms = JSON.parse(body) as { to: string; body: string };
          this.delivered.push({ key, to: sms.to, body: sms.body });
          answer = JSON.stringify({ message_id: `gw-${this.delivered.length}` });
          this.answers.set(key, answer);
        }
        this.firstRequest?.();
        if (this.hold) {
          this.held.push(res);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/sms`;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

let dataDir: string;
let server: DevServer | null = null;
let h: Harness;
let gateway: IdempotentGateway;
const workers: ChildProcess[] = [];
const output: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'inbound-sms-killed-'));
  gateway = await new IdempotentGateway().start();
  for (let attempt = 1; !server; attempt++) {
    const config = loadConfig({
      DATA_DIR: dataDir, TEMPORAL_CLI_PATH: temporalCliPath(),
      TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_DEV_UI_PORT: String(await freePort()),
    });
    try {
      server = await startTemporalDevServer(config, (l) => console.error(`[temporal] ${l}`));
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
  h = await Harness.create(null, server.address);
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await h?.close();
  await server?.stop();
  await gateway?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** `npm run worker` as its own process, on this file's schema, Temporal server and task queue. */
async function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker/index.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not start:\n${seen}`)), 90_000);
    const onData = (d: Buffer) => {
      seen += d.toString();
      output.push(d.toString());
      if (seen.includes('polling task queue')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker exited with ${code}:\n${seen}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

it('sends an SMS once when the worker sending it is killed with SIGKILL mid-send', async () => {
  const ctx = h.context({ SMS_PROVIDER: 'http', SMS_HTTP_URL: gateway.url });
  const env = {
    DATABASE_URL: `${h.db.url}?search_path=${h.db.schema}`,
    TEMPORAL_ADDRESS: server!.address,
    TEMPORAL_TASK_QUEUE: ctx.config.temporal.taskQueue,
    DATA_DIR: dataDir,
    SMS_PROVIDER: 'http',
    SMS_HTTP_URL: gateway.url,
    SECRETS_KEY,
    PAYLOAD_KEY: generateKey(),
    DELIVERY_REPORT_WAIT_SECONDS: '0',
  };
  const a = await ctx.account({ senders: ['BRAND'] });
  await a.config({ keyword: 'HELLO', auto_reply: { sender: 'BRAND', message: 'Hi <source>, once only' } });

  const first = await startWorkerProcess(env);
  const id = randomId();
  expect((await a.send('hello', { id })).status).toBe(202);
  // The gateway has the SMS and has not answered: the worker dies now, mid-send.
  await gateway.arrived;
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  expect(gateway.delivered).toHaveLength(1);
  gateway.hold = false;

  // Another worker takes the run over: it sends again, with the same key, and the gateway
  // answers what it answered before, sending nothing more.
  await startWorkerProcess(env);
  const handle = ctx.client.workflow.getHandle(`mo-${id}`);
  let status = '';
  for (let i = 0; i < 240 && status !== 'COMPLETED'; i++) {
    status = (await handle.describe()).status.name;
    if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 500));
  }
  expect(status, output.join('')).toBe('COMPLETED');

  expect(gateway.requests.length).toBeGreaterThanOrEqual(2);
  expect(new Set(gateway.requests.map((r) => r.key)).size).toBe(1);
  expect(gateway.delivered).toEqual([{ key: gateway.requests[0]!.key, to: '+919812345678', body: 'Hi +919812345678, once only' }]);
  const [row] = await h.sql`SELECT status, attempts, provider_message_id FROM outbox WHERE log_id = ${id}`;
  expect(row).toMatchObject({ status: 'sent', provider_message_id: 'gw-1' });
  expect(row!.attempts).toBeGreaterThanOrEqual(2);
  const [action] = await h.sql`SELECT status FROM message_actions WHERE log_id = ${id} AND type = 'auto_reply'`;
  expect(action!.status).toBe('succeeded');
});
