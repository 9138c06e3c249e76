import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, randomId, randomShortCode, type Account, type Res } from '../helpers/harness.js';

// SPEC §5: one account can never read or change another account's data.
let h: Harness;
beforeAll(async () => {
  h = await Harness.create();
});
afterAll(async () => {
  await h?.close();
});

const hook = { url: 'https://example.com/mo' };

/** Two accounts; `a` has a configuration and an MO log that `b` must never reach. */
async function twoAccounts() {
  const ctx = h.context();
  const a = await ctx.account({ senders: ['ALPHAS'] });
  const b = await ctx.account({ senders: ['BRAVOS'] });
  const cfg = await a.config({ keyword: 'SECRET', aliases: ['HIDDEN'], trigger: { url: 'https://a.example.com/private' } });
  const logId = randomId('mo');
  const mo = await a.send('nothing that matches', { id: logId });
  expect(mo.body).toMatchObject({ id: logId, outcome: 'no_match' });
  expect((await a.call('GET', `/logs/${logId}`)).status).toBe(200);
  return { a, b, cfg, logId };
}

/** A 404 or 401 whose body tells nothing of the other account. */
function expectNothingOf(res: Res, a: Account, ...secrets: string[]) {
  expect([401, 404]).toContain(res.status);
  expect(Object.keys(res.body)).toEqual(['error']);
  const text = JSON.stringify(res.body);
  for (const s of [a.sid, a.number, ...secrets]) expect(text).not.toContain(s);
}

describe("another account's receive configurations", () => {
  it('cannot be read, changed or deleted with a valid key of its own and the guessed id', async () => {
    const { a, b, cfg } = await twoAccounts();
    const before = (await a.call('GET', `/receive-configs/${cfg.id}`)).body;

    const read = await b.call('GET', `/receive-configs/${cfg.id}`);
    expect(read.status).toBe(404);
    expectNothingOf(read, a, cfg.id, 'SECRET');
    // indistinguishable from an id that does not exist
    expect(read.body).toEqual((await b.call('GET', '/receive-configs/00000000-0000-4000-8000-000000000000')).body);

    const put = await b.call('PUT', `/receive-configs/${cfg.id}`, { number: b.number, keyword: 'MINE', trigger: hook });
    expect(put.status).toBe(404);
    expectNothingOf(put, a, cfg.id, 'SECRET');
    const putOnTheirNumber = await b.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'SECRET', trigger: hook });
    expect(putOnTheirNumber.status).toBe(404);

    const del = await b.call('DELETE', `/receive-configs/${cfg.id}`);
    expect(del.status).toBe(404);
    expectNothingOf(del, a, cfg.id);

    expect((await a.call('GET', `/receive-configs/${cfg.id}`)).body).toEqual(before);
  });

  it('cannot be reached under the other account’s sid with one’s own key', async () => {
    const { a, b, cfg } = await twoAccounts();
    const asB = (method: string, path: string, body?: unknown) => b.ctx.request(method, `/v1/${a.sid}${path}`, body, { 'api-key': b.apiKey });
    for (const [method, path, body] of [
      ['GET', '/receive-configs', undefined],
      ['GET', `/receive-configs/${cfg.id}`, undefined],
      ['PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'MINE', trigger: hook }],
      ['DELETE', `/receive-configs/${cfg.id}`, undefined],
      ['POST', '/receive-configs', { number: a.number, keyword: 'MINE', trigger: hook }],
      ['GET', '/numbers', undefined],
      ['GET', '/sender-ids', undefined],
      ['POST', '/sender-ids', { sender_id: 'HIJACK' }],
      ['GET', '/logs', undefined],
      ['GET', '/standard-keywords', undefined],
      ['PATCH', '/standard-keywords', { help_text: 'HIJACK' }],
    ] as const) {
      const res = await asB(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(401);
      expectNothingOf(res, a, cfg.id, 'SECRET', 'ALPHAS');
    }
    expect((await a.call('GET', `/receive-configs/${cfg.id}`)).body.keyword).toBe('SECRET');
    expect((await a.call('GET', '/receive-configs')).body.data).toHaveLength(1);
    expect((await a.call('GET', '/sender-ids')).body.data.map((s: { sender_id: string }) => s.sender_id)).toEqual(['ALPHAS']);
  });

  it('cannot be created on another account’s number', async () => {
    const { a, b } = await twoAccounts();
    const res = await b.call('POST', '/receive-configs', { number: a.number, keyword: 'MINE', trigger: hook });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('number');
    const dflt = await b.call('POST', '/receive-configs', { number: a.number, default: true, trigger: hook });
    expect(dflt.status).toBe(400);
    expect(await h.sql`SELECT 1 FROM receive_configs WHERE sid = ${b.sid}`).toHaveLength(0);
    expect((await a.call('GET', '/receive-configs')).body.data.map((c: { keyword: string }) => c.keyword)).toEqual(['SECRET']);
  });

  it('cannot be moved onto by a PUT of one’s own configuration', async () => {
    const { a, b } = await twoAccounts();
    const own = await b.config({ keyword: 'MINE', trigger: hook });
    const res = await b.call('PUT', `/receive-configs/${own.id}`, { number: a.number, keyword: 'MINE', trigger: hook });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('number');
    expect((await b.call('GET', `/receive-configs/${own.id}`)).body.number).toBe(b.number);
  });

  it('cannot use the other account’s sender IDs', async () => {
    const { b } = await twoAccounts();
    const res = await b.call('POST', '/receive-configs', { number: b.number, keyword: 'X', auto_reply: { sender: 'ALPHAS', message: 'hi' } });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('auto_reply.sender');
  });
});

describe('listing shows own data only', () => {
  it('receive configurations, numbers and sender IDs', async () => {
    const { a, b, cfg } = await twoAccounts();
    const mine = await b.config({ keyword: 'MINE', trigger: hook });
    expect((await b.call('GET', '/receive-configs')).body.data.map((c: { id: string }) => c.id)).toEqual([mine.id]);
    expect((await b.call('GET', `/receive-configs?number=${encodeURIComponent(a.number)}`)).body.data).toEqual([]);
    expect((await a.call('GET', '/receive-configs')).body.data.map((c: { id: string }) => c.id)).toEqual([cfg.id]);
    expect((await b.call('GET', '/numbers')).body.data.map((n: { number: string }) => n.number)).toEqual([b.number]);
    expect((await b.call('GET', '/sender-ids')).body.data.map((s: { sender_id: string }) => s.sender_id)).toEqual(['BRAVOS']);
  });

  it('filters by number in any writing, a + in the query included', async () => {
    const { a, cfg } = await twoAccounts();
    // A bare + in a query string reads as a space; the filter must still find the number.
    for (const q of [encodeURIComponent(a.number), a.number, `00${a.number.slice(1)}`]) {
      expect((await a.call('GET', `/receive-configs?number=${q}`)).body.data.map((c: { id: string }) => c.id), q).toEqual([cfg.id]);
      expect((await a.call('GET', `/logs?number=${q}`)).body.data, q).toHaveLength(1);
    }
  });

  it('MO logs: neither read nor listed for another account', async () => {
    const { a, b, logId } = await twoAccounts();
    const read = await b.call('GET', `/logs/${logId}`);
    expect(read.status).toBe(404);
    expectNothingOf(read, a, logId, 'nothing that matches');
    expect(read.body).toEqual((await b.call('GET', `/logs/${randomId('mo')}`)).body);
    const own = await b.send('mine only');
    expect((await b.call('GET', '/logs')).body.data.map((l: { id: string }) => l.id)).toEqual([own.body.id]);
    expect((await b.call('GET', `/logs?number=${encodeURIComponent(a.number)}`)).body.data).toEqual([]);
    expect((await a.call('GET', '/logs')).body.data.map((l: { id: string }) => l.id)).toEqual([logId]);
  });
});

describe('a shared short code', () => {
  it('keeps each account’s configurations and MO logs to itself', async () => {
    const ctx = h.context();
    const code = randomShortCode();
    const a = await ctx.account({ number: code, kind: 'short_code', shared: true });
    const b = await ctx.account({ number: code, kind: 'short_code', shared: true });
    const ca = await a.config({ keyword: 'ALPHA', trigger: hook });
    const cb = await b.config({ keyword: 'BRAVO', trigger: hook });

    expect((await a.call('GET', `/receive-configs?number=${code}`)).body.data.map((c: { id: string }) => c.id)).toEqual([ca.id]);
    expect((await b.call('GET', `/receive-configs?number=${code}`)).body.data.map((c: { id: string }) => c.id)).toEqual([cb.id]);
    expect((await b.call('GET', `/receive-configs/${ca.id}`)).status).toBe(404);
    expect((await b.call('DELETE', `/receive-configs/${ca.id}`)).status).toBe(404);

    const toA = await a.send('alpha please');
    expect(toA.body).toMatchObject({ outcome: 'keyword', config_id: ca.id });
    expect((await a.call('GET', `/logs/${toA.body.id}`)).status).toBe(200);
    expect((await b.call('GET', `/logs/${toA.body.id}`)).status).toBe(404);
    expect((await b.call('GET', '/logs')).body.data).toEqual([]);
  });

  it('gives a message no account matched to neither account', async () => {
    const ctx = h.context();
    const code = randomShortCode();
    // Whichever account sorts first must not receive other tenants' unmatched traffic.
    const a = await ctx.account({ number: code, kind: 'short_code', shared: true });
    const b = await ctx.account({ number: code, kind: 'short_code', shared: true });
    const id = randomId('mo');
    const res = await a.send('BRAVOO typo for b, from +919812345678', { id });
    expect(res.body).toMatchObject({ id, outcome: 'no_match', config_id: null });
    for (const acct of [a, b]) {
      expect((await acct.call('GET', `/logs/${id}`)).status).toBe(404);
      expect((await acct.call('GET', '/logs')).body.data).toEqual([]);
    }
  });
});
