// Issue 16, part 3: an answer given before the body was read whole (413 on Content-Length, 401
// before the body) keeps the client's pooled connection usable. Over a real socket, with
// undici's keep-alive pool as a carrier's HTTP client has, and the real API over PostgreSQL.
import { serve, type ServerType } from '@hono/node-server';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, INGEST_TOKEN, type Account } from '../helpers/harness.js';

let h: Harness;
let server: ServerType;
let base: string;
let a: Account;

beforeAll(async () => {
  h = await Harness.create();
  const ctx = h.context();
  a = await ctx.account();
  server = await new Promise<ServerType>((res) => {
    const s = serve({ fetch: ctx.app.fetch, port: 0, hostname: '127.0.0.1' }, () => res(s));
  });
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  await h?.close();
});

const ingestHeaders = { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' };
const mo = () => JSON.stringify({ id: `ka-${randomBytes(6).toString('hex')}`, source: '+919812345678', recipient: a.number, message: 'hello' });
// Under BODY_LIMIT_BYTES (1 MiB), so that the credential is what is refused, before the body is read.
const unreadable = () => JSON.stringify({ source: '+919812345678', recipient: a.number, message: 'y'.repeat(600 * 1024) });
const oversized = () => JSON.stringify({ source: '+919812345678', recipient: a.number, message: 'x'.repeat(2 * 1024 * 1024) });

describe('keep-alive after an early answer', () => {
  it('a 413 and a 401 before the body leave the connection to serve the next MO', async () => {
    // One connection: every request below goes over the same socket.
    const agent = new Agent({ connections: 1, pipelining: 1 });
    try {
      const sockets = new Set<unknown>();
      server.on('connection', (s) => sockets.add(s));
      const big = await request(`${base}/v1/inbound`, { method: 'POST', headers: ingestHeaders, body: oversized(), dispatcher: agent });
      expect(big.statusCode).toBe(413);
      expect((await big.body.json()) as unknown).toMatchObject({ error: { code: 'too_large', field: 'body' } });
      const next = await request(`${base}/v1/inbound`, { method: 'POST', headers: ingestHeaders, body: mo(), dispatcher: agent });
      expect(next.statusCode).toBe(202);
      await next.body.text();
      const unauthorised = await request(`${base}/v1/inbound`, { method: 'POST', headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' }, body: unreadable(), dispatcher: agent });
      expect(unauthorised.statusCode).toBe(401);
      await unauthorised.body.text();
      const after = await request(`${base}/v1/inbound`, { method: 'POST', headers: ingestHeaders, body: mo(), dispatcher: agent });
      expect(after.statusCode).toBe(202);
      await after.body.text();
      expect(sockets.size, 'connections opened').toBe(1);
      // A chunked body over the limit is read up to the limit only: its answer closes the
      // connection, saying so, and the pool's next request opens another.
      const chunked = await request(`${base}/v1/inbound`, { method: 'POST', headers: ingestHeaders, body: Readable.from([oversized()]), dispatcher: agent });
      expect(chunked.statusCode).toBe(413);
      expect(chunked.headers.connection).toBe('close');
      await chunked.body.text();
      const reopened = await request(`${base}/v1/inbound`, { method: 'POST', headers: ingestHeaders, body: mo(), dispatcher: agent });
      expect(reopened.statusCode).toBe(202);
      await reopened.body.text();
    } finally {
      await agent.close();
    }
  });

  it('10,000 hostile requests on pooled connections: no 5xx and no failure on the client', { timeout: 240_000 }, async () => {
    // An eighth of the requests are 2 MiB; the rest are MOs, bad credentials and bad JSON.
    const total = 10_000;
    const agent = new Agent({ connections: 8, pipelining: 1 });
    const outcome = { failed: 0, fiveXx: 0, errors: new Map<string, number>() };
    let sent = 0;
    const worker = async () => {
      while (sent < total) {
        const i = sent++;
        const kind = i % 8;
        const body = kind === 0 ? oversized() : kind === 1 ? '{"source":' : kind === 2 ? unreadable() : mo();
        const headers = kind === 2 ? { ...ingestHeaders, authorization: 'Bearer nope' } : ingestHeaders;
        try {
          const res = await request(`${base}/v1/inbound`, { method: 'POST', headers, body, dispatcher: agent });
          await res.body.text();
          if (res.statusCode >= 500) outcome.fiveXx++;
        } catch (e) {
          outcome.failed++;
          const code = (e as { code?: string }).code ?? String(e);
          outcome.errors.set(code, (outcome.errors.get(code) ?? 0) + 1);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 8 }, worker));
    } finally {
      await agent.close();
    }
    expect({ failed: outcome.failed, fiveXx: outcome.fiveXx, errors: Object.fromEntries(outcome.errors) }).toEqual({ failed: 0, fiveXx: 0, errors: {} });
  });
});
