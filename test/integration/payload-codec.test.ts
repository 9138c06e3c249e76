import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { uiCodecPath } from '../../src/api/routes/codec.js';
import { generateKey } from '../../src/domain/keyring.js';
import { ADMIN_TOKEN, randomId, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';
import { temporalCliPath } from '../helpers/temporal.js';

const run = promisify(execFile);
const s = temporalSuite();

type JsonPayload = { metadata?: Record<string, string>; data?: string };
const ENCRYPTED = Buffer.from('binary/encrypted').toString('base64');
const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/** `temporal workflow show` of a run, as the operator's CLI prints it (JSON, payloads as the CLI shows them). */
async function show(workflowId: string, ...extra: string[]): Promise<string> {
  const env = { ...process.env, TEMPORAL_CODEC_ENDPOINT: '', TEMPORAL_CODEC_AUTH: '' };
  const { stdout } = await run(
    temporalCliPath(),
    ['workflow', 'show', '--workflow-id', workflowId, '--address', s.env.address, '--namespace', 'default', '--output', 'json', ...extra],
    { env, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/** Every payload-like object ({metadata, data}) in a JSON document. */
function payloadsIn(doc: unknown): JsonPayload[] {
  const found: JsonPayload[] = [];
  const stack = [doc];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    const o = v as Record<string, unknown>;
    if (o.metadata && typeof o.metadata === 'object' && (typeof o.data === 'string' || o.data === undefined)) found.push(o as JsonPayload);
    stack.push(...Object.values(o));
  }
  return found;
}

/** What a reader of the output could see: the text itself and every payload's bytes decoded. */
function readable(output: string): string {
  return [output, ...payloadsIn(JSON.parse(output)).map((p) => b64(p.data))].join('\n');
}

async function listen(ctx: Ctx): Promise<{ base: string; close: () => Promise<void> }> {
  const server = await new Promise<ReturnType<typeof serve>>((res) => {
    const srv = serve({ fetch: ctx.app.fetch, port: 0, hostname: '127.0.0.1' }, () => res(srv));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

/** A customer and a text nobody else's run holds: a number, a name and a city made up for this test. */
function customer() {
  const number = `+9199${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
  const city = `Zq${randomBytes(5).toString('hex')}`;
  return { number, digits: number.slice(1), city, text: `join Meera ${city}` };
}

async function mo(ctx: Ctx, c: ReturnType<typeof customer>, hookPath: string) {
  const a = await ctx.account({ senders: ['BRAND'] });
  await a.config({ keyword: 'JOIN', template: 'JOIN <name> <city>', trigger: { url: s.hooks.url(hookPath) }, auto_reply: { sender: 'BRAND', message: 'Hi <name> of <city>' } });
  const id = randomId();
  const res = await a.send(c.text, { id, source: c.number });
  expect(res.status).toBe(202);
  const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
  return { id, state };
}

describe('customer data in Temporal payloads (SPEC §9)', () => {
  it('is in clear in the history without PAYLOAD_KEY (what the check below looks for)', async () => {
    const ctx = s.h.context({ SMS_PROVIDER: 'http', SMS_HTTP_URL: s.hooks.url('/plain-sms') });
    const c = customer();
    const { id } = await mo(ctx, c, '/plain-hook');
    const seen = readable(await show(`mo-${id}`));
    expect(seen).toContain(c.number);
    expect(seen).toContain(c.city);
  });

  it('is encrypted in the history with PAYLOAD_KEY, and the codec endpoint decodes it for operators', async () => {
    const ctx = s.h.context({ PAYLOAD_KEY: generateKey(), SMS_PROVIDER: 'http', SMS_HTTP_URL: s.hooks.url('/sealed-sms') });
    // Two webhook attempts fail, the second as a regular activity: its failure is in the history.
    s.hooks.script('/sealed-hook', [{ status: 503 }, { status: 503 }, { status: 200 }]);
    const c = customer();
    const { id, state } = await mo(ctx, c, '/sealed-hook');
    expect(state.actions).toMatchObject({ trigger: 'succeeded', auto_reply: 'succeeded' });
    const [sms] = s.hooks.to('/sealed-sms');
    expect(JSON.parse(sms!.body)).toMatchObject({ to: c.number, body: `Hi Meera of ${c.city}` });

    const raw = await show(`mo-${id}`);
    const seen = readable(raw);
    for (const secret of [c.number, c.digits, c.city, c.text]) expect(seen).not.toContain(secret);
    // Failure messages travel encrypted too (encodeCommonAttributes).
    expect(seen).not.toContain('HTTP 503');
    expect(raw).toContain('Encoded failure');
    const sealed = payloadsIn(JSON.parse(raw)).filter((p) => p.metadata?.encoding === ENCRYPTED);
    expect(sealed.length).toBeGreaterThan(3);
    expect(new Set(sealed.map((p) => b64(p.metadata!['encryption-key-id'])))).toEqual(new Set([ctx.config.keys.payload!.current.id]));

    const api = await listen(ctx);
    try {
      const body = { payloads: sealed.map(({ metadata, data }) => ({ metadata, data })) };
      const decoded = await post(`${api.base}/v1/codec/decode`, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(decoded.status).toBe(200);
      expect(decoded.body.payloads).toHaveLength(sealed.length);
      const clear = decoded.body.payloads.map((p: JsonPayload) => b64(p.data)).join('\n');
      expect(clear).toContain(c.number);
      expect(clear).toContain(c.city);
      expect(decoded.body.payloads.every((p: JsonPayload) => p.metadata?.encoding !== ENCRYPTED)).toBe(true);

      expect((await post(`${api.base}/v1/codec/decode`, body)).status).toBe(401);
      expect((await post(`${api.base}/v1/codec/decode`, body, { authorization: 'Bearer wrong' })).status).toBe(401);
      // The Temporal UI's URL: the capability derived from the admin token stands for the token.
      const byCapability = await post(`${api.base}${uiCodecPath(ADMIN_TOKEN)}/decode`, body);
      expect(byCapability.status).toBe(200);
      expect(byCapability.body).toEqual(decoded.body);
      const wrong = await post(`${api.base}${uiCodecPath('another-token')}/decode`, body);
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('unauthorized');

      // The operator's CLI reads the run in clear through the endpoint, failure message included.
      const viaCodec = await show(`mo-${id}`, '--codec-endpoint', `${api.base}/v1/codec`, '--codec-auth', `Bearer ${ADMIN_TOKEN}`);
      const read = readable(viaCodec);
      expect(read).toContain(c.number);
      expect(read).toContain(c.text);
      expect(read).toContain('HTTP 503');
    } finally {
      await api.close();
    }
  });

  it('encodes what it decodes, answers the UI preflight, and refuses malformed bodies in the API error shape', async () => {
    const ctx = s.h.context({ PAYLOAD_KEY: generateKey() });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('{"source":"+919900000001"}').toString('base64') };
    const enc = await ctx.request('POST', '/v1/codec/encode', { payloads: [plain] }, admin);
    expect(enc.status).toBe(200);
    expect(enc.body.payloads[0].metadata.encoding).toBe(ENCRYPTED);
    expect(b64(enc.body.payloads[0].data)).not.toContain('+919900000001');
    const dec = await ctx.request('POST', '/v1/codec/decode', enc.body, admin);
    expect(dec.body).toEqual({ payloads: [plain] });
    // A payload that was never encrypted (a run from before PAYLOAD_KEY) comes back as it is.
    expect((await ctx.request('POST', '/v1/codec/decode', { payloads: [plain] }, admin)).body).toEqual({ payloads: [plain] });

    const preflight = await ctx.app.request(`${uiCodecPath(ADMIN_TOKEN)}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type,x-namespace,authorization');
    const foreign = await ctx.app.request('/v1/codec/decode', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    const notJson = await ctx.request('POST', '/v1/codec/decode', 'payloads', admin);
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatchObject({ code: 'invalid_field', field: 'body' });
    const badBase64 = await ctx.request('POST', '/v1/codec/decode', { payloads: [{ data: 'not base64!' }] }, admin);
    expect(badBase64.status).toBe(400);
    expect(badBase64.body.error.field).toBe('payloads.0.data');
    const tampered = { ...enc.body.payloads[0], data: Buffer.from('x'.repeat(40)).toString('base64') };
    const undecodable = await ctx.request('POST', '/v1/codec/decode', { payloads: [tampered] }, admin);
    expect(undecodable.status).toBe(400);
    expect(undecodable.body.error.code).toBe('undecodable');
  });

  it('answers 503 when payload encryption is off', async () => {
    const ctx = s.h.context();
    const res = await ctx.request('POST', '/v1/codec/decode', { payloads: [] }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(res.status).toBe(503);
    expect(res.body.error.message).toMatch(/payload encryption is off/);
  });
});
