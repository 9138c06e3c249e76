// Issue 10, parts 1 and 2: one request id on every line a request logs and on its response;
// `/metrics` families that move when MOs flow through the real stack.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createIngestion } from '../../src/ingest/ingest.js';
import { generateKey } from '../../src/domain/keyring.js';
import { createLogger, lineLog } from '../../src/runtime/logger.js';
import { ADMIN_TOKEN, INGEST_TOKEN, randomId, SECRETS_KEY, type Ctx } from '../helpers/harness.js';
import { freePort } from '../helpers/net.js';
import { captureLines } from '../helpers/logs.js';
import { hasFamily, parseMetrics, valueOf } from '../helpers/metrics.js';
import { temporalSuite } from '../helpers/suite.js';

const s = temporalSuite();
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function scrape(ctx: Ctx, headers: Record<string, string> = {}) {
  const res = await ctx.request('GET', '/metrics', undefined, headers);
  expect(res.status).toBe(200);
  const text = res.body as string;
  return { text, samples: parseMetrics(text) };
}

describe('GET /metrics', () => {
  it('counts the HTTP requests, MOs, run starts, webhook attempts and outbox sends that traffic makes', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['BRAND'] });
    const okPath = `/ok-${randomId()}`;
    const gonePath = `/gone-${randomId()}`;
    s.hooks.script(gonePath, [{ status: 404, body: 'no such hook' }]);
    await a.config({ keyword: 'OFFER', trigger: { url: s.hooks.url(okPath) }, auto_reply: { sender: 'BRAND', message: 'thanks' } });
    await a.config({ keyword: 'GONE', trigger: { url: s.hooks.url(gonePath) } });

    const before = await scrape(ctx);
    const ids = [randomId(), randomId(), randomId()];
    const goneId = randomId();
    await ctx.withWorker(async () => {
      for (const id of ids) expect((await a.send('offer please', { id })).status).toBe(202);
      expect((await a.send('gone', { id: goneId })).status).toBe(202);
      expect((await a.send('nothing matches this', { id: randomId() })).status).toBe(202);
      for (const id of ids) expect((await ctx.result(`mo-${id}`)).actions).toMatchObject({ trigger: 'succeeded', auto_reply: 'succeeded' });
      expect((await ctx.result(`mo-${goneId}`)).actions.trigger).toBe('failed');
    });
    const after = await scrape(ctx);
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after.samples, name, labels) - valueOf(before.samples, name, labels);

    // HTTP: five MOs posted, each answered 202, each timed.
    expect(delta('sms_http_requests_total', { method: 'POST', route: '/v1/inbound', status: '202' })).toBe(5);
    expect(delta('sms_http_request_duration_seconds_count', { method: 'POST', route: '/v1/inbound' })).toBe(5);
    // The scrape before this one counted itself, by its route pattern.
    expect(delta('sms_http_requests_total', { method: 'GET', route: '/metrics', status: '200' })).toBe(1);
    // MOs by outcome, from the default gateway (INGEST_TOKEN).
    expect(delta('sms_mo_received_total', { outcome: 'keyword', gateway: 'default' })).toBe(4);
    expect(delta('sms_mo_received_total', { outcome: 'no_match', gateway: 'default' })).toBe(1);
    // Runs started right after their 202, with the delay from arrival measured.
    expect(delta('sms_run_starts_total', { result: 'started', path: 'ingest' })).toBe(4);
    expect(delta('sms_run_start_delay_seconds_count', { path: 'ingest' })).toBe(4);
    expect(valueOf(after.samples, 'sms_run_start_queued')).toBe(0);
    expect(valueOf(after.samples, 'sms_run_start_pending')).toBe(0);
    // Webhooks: three answered 2xx, one 404 (not retried), each with its latency.
    expect(delta('sms_webhook_attempts_total', { outcome: 'success' })).toBe(3);
    expect(delta('sms_webhook_attempts_total', { outcome: 'http_4xx' })).toBe(1);
    expect(delta('sms_webhook_attempt_duration_seconds_count', { outcome: 'success' })).toBe(3);
    expect(delta('sms_webhook_attempt_duration_seconds_sum', { outcome: 'success' })).toBeGreaterThan(0);
    // The auto replies, through the `log` provider's outbox.
    expect(delta('sms_outbox_sends_total', { channel: 'sms', provider: 'log', status: 'sent' })).toBe(3);
    expect(delta('sms_outbox_send_duration_seconds_count', { channel: 'sms', provider: 'log' })).toBe(3);
    // The process's own (prom-client's defaults).
    expect(hasFamily(after.text, 'process_cpu_user_seconds_total')).toBe(true);
    expect(hasFamily(after.text, 'sms_mo_duplicates_total')).toBe(true);
  });

  it('counts a carrier retry as a duplicate, not as a second MO', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const before = parseMetrics((await ctx.request('GET', '/metrics')).body as string);
    const id = randomId();
    expect((await a.send('hello', { id })).status).toBe(202);
    expect((await a.send('hello', { id })).status).toBe(202);
    const after = parseMetrics((await ctx.request('GET', '/metrics')).body as string);
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('sms_mo_received_total', { outcome: 'no_match', gateway: 'default' })).toBe(1);
    expect(delta('sms_mo_duplicates_total', { gateway: 'default' })).toBe(1);
  });

  it('asks for METRICS_TOKEN when it is set', async () => {
    const ctx = s.h.context({ METRICS_TOKEN: 'scrape-secret' });
    expect((await ctx.request('GET', '/metrics')).status).toBe(401);
    expect((await ctx.request('GET', '/metrics', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await ctx.request('GET', '/metrics', undefined, { authorization: 'Bearer scrape-secret' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('# TYPE sms_http_requests_total counter');
  });

  it('is in the OpenAPI document', async () => {
    const ctx = s.h.context();
    const doc = (await ctx.request('GET', '/openapi.json')).body;
    expect(doc.paths['/metrics'].get.responses['200'].content).toHaveProperty('text/plain');
  });
});

describe('request ids and access lines', () => {
  /** The real app, logging as a process does, to lines kept here. */
  function loggedApp() {
    const ctx = s.h.context();
    const { stream, lines } = captureLines();
    const log = lineLog(createLogger({ level: 'debug', destination: stream }));
    const ingestion = createIngestion({ sql: s.h.sql, temporal: ctx.client, config: ctx.config, log });
    const app = createApp({ sql: s.h.sql, temporal: ctx.client, config: ctx.config, tokens: { admin: ADMIN_TOKEN, ingest: INGEST_TOKEN }, sms: ctx.sms, ingestion, log });
    return { ctx, app, lines, ingestion };
  }

  it("echoes the caller's X-Request-Id, and puts it on the access line and every line the request logs", async () => {
    const { ctx, app, lines, ingestion } = loggedApp();
    const a = await ctx.account();
    const id = randomId();
    const res = await app.request('/v1/inbound', {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json', 'x-request-id': 'req-abc-123' },
      body: JSON.stringify({ id, source: '+15551234567', recipient: a.number, message: 'hello there' }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    await ingestion.starter.drain();

    const mine = lines.filter((l) => l.requestId === 'req-abc-123');
    const stored = mine.find((l) => l.msg === 'MO stored');
    const access = mine.find((l) => l.msg === 'POST /v1/inbound 202');
    expect(stored).toMatchObject({ level: 'debug', moId: id, gateway: 'default', outcome: 'no_match' });
    expect(access).toMatchObject({ level: 'info', method: 'POST', route: '/v1/inbound', status: 202, moId: id, gateway: 'default', outcome: 'no_match' });
    expect(typeof access!.ms).toBe('number');
    // Nothing of what the customer wrote, nor their number, is in the lines.
    const all = JSON.stringify(lines);
    expect(all).not.toContain('hello there');
    expect(all).not.toContain('5551234567');
  });

  it('makes an id when the caller gives none, or one that is not sane, and never logs a query token or a path', async () => {
    const { ctx, app, lines } = loggedApp();
    const a = await ctx.account();
    const noId = await app.request('/v1/admin/accounts', { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: '{}' });
    expect(noId.status).toBe(401);
    const generated = noId.headers.get('x-request-id')!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.find((l) => l.requestId === generated)).toMatchObject({ msg: 'POST /v1/admin/accounts 401', status: 401 });

    const insane = await app.request('/health', { headers: { 'x-request-id': 'two words; <script>' } });
    const replaced = insane.headers.get('x-request-id')!;
    expect(replaced).not.toBe('two words; <script>');
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    // Probes are logged at debug level only.
    expect(lines.find((l) => l.requestId === replaced)).toMatchObject({ level: 'debug', route: '/health', status: 200 });

    // A GET ingest carries the gateway token in its query: the access line names the route pattern only.
    const q = new URLSearchParams({ token: INGEST_TOKEN, source: '+15557654321', recipient: a.number, message: 'hi', id: randomId() });
    expect((await app.request(`/v1/inbound?${q}`)).status).toBe(202);
    const unknown = await app.request(`/v1/${a.sid}/logs/${randomId()}`, { headers: { 'api-key': a.apiKey } });
    expect(unknown.status).toBe(404);
    const routes = lines.map((l) => l.route).filter(Boolean);
    expect(routes).toContain('/v1/inbound');
    expect(routes).toContain('/v1/:sid/logs/:id');
    expect((await app.request('/no/such/route')).status).toBe(404);
    expect(lines.at(-1)).toMatchObject({ route: 'unmatched', status: 404 });
    const all = JSON.stringify(lines);
    expect(all).not.toContain(INGEST_TOKEN);
    expect(all).not.toContain(a.sid);
  });
});

describe('npm run worker, a process of its own', () => {
  it('logs only JSON lines (no bundler report) and serves its activities\' metrics with the Temporal SDK\'s on WORKER_HEALTH_PORT', async () => {
    const PAYLOAD_KEY = generateKey();
    const taskQueue = `tq-${randomId()}`;
    const ctx = s.h.context({ PAYLOAD_KEY, TEMPORAL_TASK_QUEUE: taskQueue });
    const a = await ctx.account();
    const path = `/w-${randomId()}`;
    await a.config({ keyword: 'HOOK', trigger: { url: s.hooks.url(path) } });

    const healthPort = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'inbound-sms-obs-'));
    const output: string[] = [];
    // `node --import tsx` runs the entry point in this one process, so SIGTERM reaches it.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker/index.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '',
        DATABASE_URL: `${s.h.db.url}?search_path=${s.h.db.schema}`,
        TEMPORAL_ADDRESS: s.env.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        TEMPORAL_METRICS_PORT: String(await freePort()),
        WORKER_HEALTH_PORT: String(healthPort),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        SECRETS_KEY,
        PAYLOAD_KEY,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const base = `http://127.0.0.1:${healthPort}`;
      const deadline = Date.now() + 120_000;
      while ((await fetch(`${base}/ready`).then((r) => r.status, () => 0)) !== 200) {
        if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}:\n${stdout}${output.join('')}`);
        if (Date.now() > deadline) throw new Error(`the worker did not get ready:\n${stdout}${output.join('')}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const scrapeWorker = async () => {
        const res = await fetch(`${base}/metrics`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        const text = await res.text();
        return { text, samples: parseMetrics(text) };
      };
      const before = await scrapeWorker();
      const id = randomId();
      expect((await a.send('hook me', { id })).status).toBe(202);
      expect((await ctx.result(`mo-${id}`)).actions.trigger).toBe('succeeded');
      await s.hooks.waitFor(path);
      const after = await scrapeWorker();

      // The webhook was sent by the worker process: counted there.
      const success = { outcome: 'success' };
      expect(valueOf(after.samples, 'sms_webhook_attempts_total', success) - valueOf(before.samples, 'sms_webhook_attempts_total', success)).toBe(1);
      // The SDK's own, appended from its exporter: the run's workflow tasks and the worker's slots.
      expect(hasFamily(after.text, 'temporal_workflow_task_execution_latency_seconds')).toBe(true);
      expect(valueOf(after.samples, 'temporal_worker_task_slots_available', { task_queue: taskQueue })).toBeGreaterThan(0);
      expect(after.text).not.toContain('Temporal SDK metrics unavailable');
    } finally {
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
      await rm(dataDir, { recursive: true, force: true });
      expect(code, stdout + output.join('')).toBe(0);
    }
    // Every line is JSON, with a level and a message; the SDK's lines among them; no webpack report.
    const lines = stdout.split('\n').filter(Boolean);
    const parsed = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
    for (const p of parsed) expect(p).toMatchObject({ level: expect.any(String), msg: expect.any(String), name: 'worker' });
    expect(parsed.some((p) => p.sdkComponent === 'worker' && p.msg === 'Worker state changed')).toBe(true);
    expect(parsed.some((p) => String(p.msg).includes('polling task queue'))).toBe(true);
    expect(stdout).not.toMatch(/webpack|workflow-bundle-|modules by path/i);
    expect(output.join('')).toBe('');
  });
});
