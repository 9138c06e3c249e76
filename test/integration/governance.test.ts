// SPEC §5.2: API key rotation, account disable, "sign out everywhere", the daily_limit of the
// send API, and throttling per client address (console sign-in, failed credentials). The real
// app over a real PostgreSQL schema; no Temporal (ingest still stores and acks MOs).
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secondsUntilUtcMidnight } from '../../src/domain/rate-limits.js';
import { ADMIN_TOKEN, Harness, INGEST_TOKEN, randomId, type Account, type Ctx } from '../helpers/harness.js';
import { parseMetrics, valueOf } from '../helpers/metrics.js';

let h: Harness;
let ctx: Ctx;
beforeAll(async () => {
  h = await Harness.create();
  ctx = h.context();
});
afterAll(async () => {
  await h?.close();
});

type Fetch = (path: string, init?: RequestInit) => Promise<Response>;

/** Signs in through the console's form; answers the status and the session cookie, if any. */
async function consoleSignIn(fetch: Fetch, sid: string, apiKey: string): Promise<{ status: number; cookie: string | null; res: Response }> {
  const form = await fetch('/console/sign-in');
  const csrfCookie = form.headers.getSetCookie().find((c) => c.startsWith('console_signin_csrf='))!.split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await fetch('/console/sign-in', {
    method: 'POST',
    headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, sid, api_key: apiKey }).toString(),
    redirect: 'manual',
  });
  const session = res.headers.getSetCookie().find((c) => c.startsWith('console_session='));
  return { status: res.status, cookie: session ? session.split(';')[0]! : null, res };
}

const inProcess: Fetch = async (path, init) => ctx.app.request(path, init);
const consolePage = (cookie: string, path = '/console') => ctx.app.request(path, { headers: { cookie }, redirect: 'manual' });
const send = (a: Account, headers: Record<string, string> = {}, to = '+15555550123') =>
  ctx.app.request(`/v1/${a.sid}/messages`, {
    method: 'POST',
    headers: { 'api-key': a.apiKey, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ to, sender: 'ACME', body: 'hello' }),
  });

describe('API key rotation', () => {
  it('refuses the old key at once, takes the new one, and ends the console sessions opened with the old', async () => {
    const a = await ctx.account();
    const signedIn = await consoleSignIn(inProcess, a.sid, a.apiKey);
    expect(signedIn.status).toBe(303);
    expect((await consolePage(signedIn.cookie!)).status).toBe(200);

    const rotated = await ctx.admin('POST', `/accounts/${a.sid}/api-key`);
    expect(rotated.status).toBe(201);
    expect(rotated.body).toEqual({ api_key: expect.stringMatching(/^A[0-9a-f]{48}$/) });
    expect(rotated.body.api_key).not.toBe(a.apiKey);

    const old = await a.call('GET', '/numbers');
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('unauthorized');
    const page = await consolePage(signedIn.cookie!);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/sign-in');
    expect(await h.sql`SELECT 1 FROM console_sessions WHERE sid = ${a.sid}`).toHaveLength(0);

    const fresh = await ctx.request('GET', `/v1/${a.sid}/numbers`, undefined, { 'api-key': rotated.body.api_key });
    expect(fresh.status).toBe(200);
    expect((await consoleSignIn(inProcess, a.sid, a.apiKey)).status).toBe(401);
    expect((await consoleSignIn(inProcess, a.sid, rotated.body.api_key)).status).toBe(303);
  });

  it('is a 404 for an unknown account, and the operator\'s alone', async () => {
    const missing = await ctx.admin('POST', '/accounts/HXUS000000000000/api-key');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const a = await ctx.account();
    const byAccount = await ctx.request('POST', `/v1/admin/accounts/${a.sid}/api-key`, undefined, { authorization: `Bearer ${a.apiKey}` });
    expect(byAccount.status).toBe(401);
    expect((await a.call('GET', '/numbers')).status).toBe(200);
  });
});

describe('sign out everywhere', () => {
  it('ends every console session of the account, and only its own', async () => {
    const a = await ctx.account();
    const other = await ctx.account();
    const one = await consoleSignIn(inProcess, a.sid, a.apiKey);
    const two = await consoleSignIn(inProcess, a.sid, a.apiKey);
    const theirs = await consoleSignIn(inProcess, other.sid, other.apiKey);
    const res = await a.call('POST', '/sessions/revoke');
    expect(res).toEqual({ status: 200, body: { revoked: 2 } });
    expect((await consolePage(one.cookie!)).status).toBe(303);
    expect((await consolePage(two.cookie!)).status).toBe(303);
    expect((await consolePage(theirs.cookie!)).status).toBe(200);
    expect((await a.call('POST', '/sessions/revoke')).body).toEqual({ revoked: 0 });
    expect((await ctx.request('POST', `/v1/${a.sid}/sessions/revoke`, undefined, { 'api-key': other.apiKey })).status).toBe(401);
  });
});

describe('account disable', () => {
  it('answers 403 account_disabled on its API and console, still stores and acks its MOs, and comes back when enabled', async () => {
    const a = await ctx.account();
    const session = await consoleSignIn(inProcess, a.sid, a.apiKey);
    const off = await ctx.admin('PATCH', `/accounts/${a.sid}`, { active: false });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ sid: a.sid, active: false, daily_limit: null });

    for (const [method, path] of [['GET', '/numbers'], ['GET', '/logs'], ['POST', '/sessions/revoke']] as const) {
      const res = await a.call(method, path);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'account_disabled' });
    }
    // A wrong key is still a 401: only the key's holder learns that the account is disabled.
    expect((await ctx.request('GET', `/v1/${a.sid}/numbers`, undefined, { 'api-key': 'wrong' })).status).toBe(401);
    expect((await consolePage(session.cookie!)).status).toBe(403);
    expect((await consoleSignIn(inProcess, a.sid, a.apiKey)).status).toBe(403);

    const id = randomId('mo');
    const mo = await ctx.ingest({ id, source: '+919812345678', recipient: a.number, message: 'HELLO there' });
    expect(mo.status).toBe(202);
    const stop = await a.send('STOP');
    expect(stop.status).toBe(202);
    const stored = await h.sql`SELECT sid, outcome FROM inbound_messages WHERE sid = ${a.sid} ORDER BY received_at`;
    expect(stored.map((r) => r.outcome)).toEqual(['no_match', 'standard']);

    const on = await ctx.admin('PATCH', `/accounts/${a.sid}`, { active: true });
    expect(on.body.active).toBe(true);
    expect((await a.call('GET', '/numbers')).status).toBe(200);
    expect((await consolePage(session.cookie!)).status).toBe(200);
  });

  it('takes active and daily_limit only, each checked, naming the field; 404 for an unknown account', async () => {
    const a = await ctx.account();
    const cases: [unknown, string][] = [
      [{ daily_limit: -1 }, 'daily_limit'],
      [{ daily_limit: 2.5 }, 'daily_limit'],
      [{ daily_limit: '10' }, 'daily_limit'],
      [{ daily_limit: 2 ** 31 }, 'daily_limit'],
      [{ active: 'no' }, 'active'],
      [{ active: null }, 'active'],
      [{ name: 'Renamed' }, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await ctx.admin('PATCH', `/accounts/${a.sid}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.field, JSON.stringify(body)).toBe(field);
    }
    expect((await ctx.admin('PATCH', `/accounts/${a.sid}`, { daily_limit: 0 })).body.daily_limit).toBe(0);
    expect((await ctx.admin('PATCH', `/accounts/${a.sid}`, {})).body).toMatchObject({ active: true, daily_limit: 0 });
    expect((await ctx.admin('PATCH', `/accounts/${a.sid}`, { daily_limit: null })).body.daily_limit).toBeNull();
    expect((await ctx.admin('PATCH', '/accounts/HXUS000000000000', { active: false })).status).toBe(404);
  });
});

describe('daily_limit', () => {
  it('refuses the fourth send of a day over a daily_limit of 3 with 429 daily_limit and Retry-After to UTC midnight', async () => {
    const a = await ctx.account({ senders: ['ACME'] });
    expect((await ctx.admin('PATCH', `/accounts/${a.sid}`, { daily_limit: 3 })).status).toBe(200);
    const before = parseMetrics((await ctx.request('GET', '/metrics')).body as string);
    for (let i = 0; i < 3; i++) expect((await send(a, { 'idempotency-key': `k${i}` })).status).toBe(201);
    const fourth = await send(a);
    expect(fourth.status).toBe(429);
    expect(await fourth.json()).toEqual({ error: { code: 'daily_limit', message: expect.stringContaining('daily_limit'), field: 'daily_limit' } });
    const retryAfter = Number(fourth.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(secondsUntilUtcMidnight(new Date()) + 1);
    const after = parseMetrics((await ctx.request('GET', '/metrics')).body as string);
    expect(valueOf(after, 'sms_daily_limit_refusals_total') - valueOf(before, 'sms_daily_limit_refusals_total')).toBe(1);

    // A retry of a send already made sends nothing and takes no slot: it is still answered.
    expect((await send(a, { 'idempotency-key': 'k1' })).status).toBe(200);
    const [row] = await h.sql`SELECT sent FROM account_daily_sends WHERE sid = ${a.sid}`;
    expect(row!.sent).toBe(3);
    // Raised, the next send goes; no limit at all, every one does.
    await ctx.admin('PATCH', `/accounts/${a.sid}`, { daily_limit: 4 });
    expect((await send(a)).status).toBe(201);
    expect((await send(a)).status).toBe(429);
    await ctx.admin('PATCH', `/accounts/${a.sid}`, { daily_limit: null });
    expect((await send(a)).status).toBe(201);
  });

  it('lets exactly daily_limit of many sends at once through, and a limit of 0 none', async () => {
    const a = await ctx.account({ senders: ['ACME'] });
    await ctx.admin('PATCH', `/accounts/${a.sid}`, { daily_limit: 5 });
    const statuses = (await Promise.all(Array.from({ length: 12 }, () => send(a)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect(await h.sql`SELECT 1 FROM outbox WHERE sid = ${a.sid}`).toHaveLength(5);

    const none = await ctx.account({ senders: ['ACME'] });
    await ctx.admin('PATCH', `/accounts/${none.sid}`, { daily_limit: 0 });
    expect((await send(none)).status).toBe(429);
  });

  it('gives the slot back when nothing was sent (the provider could not be reached)', async () => {
    // Port 9 (discard) has no listener here: every send is a 503 provider_unavailable.
    const down = h.context({ SMS_PROVIDER: 'http', SMS_HTTP_URL: 'http://127.0.0.1:9/sms' });
    const a = await down.account({ senders: ['ACME'] });
    await down.admin('PATCH', `/accounts/${a.sid}`, { daily_limit: 1 });
    const req = () => down.request('POST', `/v1/${a.sid}/messages`, { to: '+15555550123', sender: 'ACME', body: 'hello' }, { 'api-key': a.apiKey });
    expect((await req()).status).toBe(503);
    expect((await req()).status).toBe(503);
    const [row] = await h.sql`SELECT sent FROM account_daily_sends WHERE sid = ${a.sid}`;
    expect(row!.sent).toBe(0);
  });
});

describe('the OpenAPI document', () => {
  it('declares what governance answers: 403 account_disabled on account routes, 429 with Retry-After on guarded ones, 404 on rotation', async () => {
    const doc = (await ctx.request('GET', '/openapi.json')).body;
    const send = doc.paths['/v1/{sid}/messages'].post.responses;
    expect(send['429'].description).toContain('daily_limit');
    expect(send['429'].headers['Retry-After'].schema).toMatchObject({ type: 'integer' });
    // The route's own 403 (opted_out) and the guard's, both named.
    expect(send['403'].description).toMatch(/opted_out.*account_disabled/);
    expect(doc.paths['/v1/{sid}/logs'].get.responses['403'].description).toContain('account_disabled');
    expect(doc.paths['/v1/admin/accounts'].post.responses).toHaveProperty('429');
    expect(doc.paths['/v1/admin/accounts/{sid}/api-key'].post.responses).toHaveProperty('404');
    expect(doc.paths['/v1/admin/accounts/{sid}'].patch.requestBody.content['application/json'].schema.properties.daily_limit).toBeDefined();
    expect(doc.paths['/v1/{sid}/sessions/revoke'].post.security).toEqual([{ apiKey: [] }]);
    expect(doc.paths['/health'].get.responses).not.toHaveProperty('429');
  });
});

describe('throttling per client address', () => {
  let server: ServerType;
  let base: string;
  let limited: Ctx;
  const agents = new Map<string, Agent>();
  /** Requests over real HTTP from a loopback address of our choosing. */
  const from = (address: string): Fetch => async (path, init = {}) => {
    let agent = agents.get(address);
    if (!agent) agents.set(address, (agent = new Agent({ localAddress: address })));
    const res = await request(`${base}${path}`, {
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers as Record<string, string>,
      body: init.body as string | undefined,
      dispatcher: agent,
    });
    const text = await res.body.text();
    const headers = new Headers();
    for (const [k, v] of Object.entries(res.headers)) for (const x of [v].flat()) if (x !== undefined) headers.append(k, x);
    return new Response(res.statusCode === 204 || res.statusCode === 304 ? null : text, { status: res.statusCode, headers });
  };

  beforeAll(async () => {
    limited = h.context({ THROTTLE_SIGN_IN_PER_MINUTE: '3', THROTTLE_FAILED_AUTH_PER_MINUTE: '5' });
    server = await new Promise<ServerType>((res) => {
      const s = serve({ fetch: limited.app.fetch, port: 0, hostname: '127.0.0.1' }, () => res(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.close()));
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it('refuses console sign-ins from an address past its failed attempts with 429 and Retry-After; other addresses sign in', async () => {
    const a = await limited.account();
    const attacker = from('127.0.0.2');
    for (let i = 0; i < 3; i++) expect((await consoleSignIn(attacker, a.sid, 'wrong')).status).toBe(401);
    const before = parseMetrics(await (await limited.app.request('/metrics')).text());
    const refused = await consoleSignIn(attacker, a.sid, a.apiKey);
    expect(refused.status).toBe(429);
    expect(refused.cookie).toBeNull();
    expect(Number(refused.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    const after = parseMetrics(await (await limited.app.request('/metrics')).text());
    expect(valueOf(after, 'sms_throttled_requests_total', { scope: 'sign_in' }) - valueOf(before, 'sms_throttled_requests_total', { scope: 'sign_in' })).toBe(1);

    const neighbour = await consoleSignIn(from('127.0.0.3'), a.sid, a.apiKey);
    expect(neighbour.status).toBe(303);
    expect(neighbour.cookie).not.toBeNull();
  });

  it('refuses failed credentials past the limit with 429 before looking them up; known and static credentials still pass', async () => {
    const a = await limited.account();
    const fresh = await limited.account();
    const attacker = from('127.0.0.4');
    // a.apiKey is verified from this address before the flood: this process knows it.
    expect((await attacker(`/v1/${a.sid}/numbers`, { headers: { 'api-key': a.apiKey } })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await attacker(`/v1/${a.sid}/numbers`, { headers: { 'api-key': `junk-${i}` } })).status).toBe(401);

    const junk = await attacker(`/v1/${a.sid}/numbers`, { headers: { 'api-key': 'junk-more' } });
    expect(junk.status).toBe(429);
    expect(await junk.json()).toMatchObject({ error: { code: 'throttled' } });
    expect(Number(junk.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await attacker(`/v1/${a.sid}/numbers`)).status).toBe(429);
    expect((await attacker('/v1/inbound', { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' })).status).toBe(429);
    expect((await attacker('/v1/admin/accounts', { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{}' })).status).toBe(429);
    // A key this process has not seen yet is not looked up from an address over its limit.
    expect((await attacker(`/v1/${fresh.sid}/numbers`, { headers: { 'api-key': fresh.apiKey } })).status).toBe(429);

    // What it verified, and the static tokens, still pass.
    expect((await attacker(`/v1/${a.sid}/numbers`, { headers: { 'api-key': a.apiKey } })).status).toBe(200);
    const mo = await attacker('/v1/inbound', {
      method: 'POST', headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: randomId('mo'), source: '+919812345678', recipient: a.number, message: 'hi' }),
    });
    expect(mo.status).toBe(202);
    expect((await attacker('/v1/admin/accounts', {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'X', country: 'US' }),
    })).status).toBe(201);
    // Another address is counted apart.
    expect((await from('127.0.0.5')(`/v1/${a.sid}/numbers`, { headers: { 'api-key': 'junk' } })).status).toBe(401);
  });
});
