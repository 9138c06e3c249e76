import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/api/query.js';
import { Harness, randomId, randomLongCode, type Account, type Ctx } from '../helpers/harness.js';

// Keyset pagination of the list routes (issue 18): a cursor walks every row once, in the
// list's order, ties on the timestamp included; it combines with the filters; a cursor the
// list did not make is a 400; the indexes of migration 020 are the ones the plans use; a dry
// run's replay says what it covered. PostgreSQL only: the rows are written with SQL, as a
// long history would have left them.
let h: Harness;
let ctx: Ctx;
beforeAll(async () => {
  h = await Harness.create();
  ctx = h.context();
});
afterAll(async () => {
  await h?.close();
});

type Page = { status: number; body: { data: any[]; limit: number; offset: number; next_cursor: string | null; error?: any } };

/** Every page of a list from its first, following next_cursor; the rows as `pick` names them. */
async function walk(a: Account, path: string, pick: (row: any) => string): Promise<{ rows: string[]; pages: number }> {
  const rows: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = (await a.call('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path)) as Page;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    rows.push(...res.body.data.map(pick));
    cursor = res.body.next_cursor;
    pages++;
    expect(pages).toBeLessThan(1000);
  } while (cursor);
  return { rows, pages };
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** `n` MOs of the account on its number, `received_at` and keyword from `shape(i)`; answers their ids in seq order. */
async function storeMos(a: Account, n: number, shape: (i: number) => { at: number; keyword?: string | null; recipient?: string }): Promise<string[]> {
  const prefix = randomId('mo');
  const rows = Array.from({ length: n }, (_, i) => {
    const s = shape(i);
    return {
      id: `${prefix}-${i}`, sid: a.sid, source: '+15551230000', recipient: s.recipient ?? a.number,
      message: `${s.keyword ?? 'hello'} ${i}`, received_at: new Date(s.at), keyword: s.keyword ?? null,
      outcome: s.keyword ? 'keyword' : 'no_match', dispatch_state: 'none',
    };
  });
  for (let i = 0; i < rows.length; i += 1000) await h.sql`INSERT INTO inbound_messages ${h.sql(rows.slice(i, i + 1000))}`;
  return rows.map((r) => r.id);
}

describe('GET /logs with a cursor', () => {
  it('walks every message once, newest (by arrival) first, many at one received_at', async () => {
    const a = await ctx.account();
    const b = await ctx.account();
    // Stored interleaved with another account's, three at each instant.
    const mine: string[] = [];
    for (let i = 0; i < 8; i++) {
      mine.push(...(await storeMos(a, 3, () => ({ at: T0 + i * 1000 }))));
      await storeMos(b, 2, () => ({ at: T0 + i * 1000 }));
    }
    const newestFirst = [...mine].reverse();
    const { rows, pages } = await walk(a, '/logs?limit=5', (r) => r.id);
    expect(rows).toEqual(newestFirst);
    expect(pages).toBe(5);
    // offset pages as before, in the same order, and a cursor continues any page
    const page2 = (await a.call('GET', '/logs?limit=5&offset=5')) as Page;
    expect(page2.body.data.map((r) => r.id)).toEqual(newestFirst.slice(5, 10));
    expect(page2.body).toMatchObject({ limit: 5, offset: 5, next_cursor: expect.any(String) });
    const page3 = (await a.call('GET', `/logs?limit=5&cursor=${page2.body.next_cursor}`)) as Page;
    expect(page3.body.data.map((r) => r.id)).toEqual(newestFirst.slice(10, 15));
    // with a cursor, offset counts from it
    const skip = (await a.call('GET', `/logs?limit=2&offset=3&cursor=${page2.body.next_cursor}`)) as Page;
    expect(skip.body.data.map((r) => r.id)).toEqual(newestFirst.slice(13, 15));
    // the last page says there is none after it
    const last = (await a.call('GET', '/logs?limit=24')) as Page;
    expect(last.body.data).toHaveLength(24);
    expect(last.body.next_cursor).toBeNull();
  });

  it('combines with the filters: keyword, number, outcome and a time window', async () => {
    const a = await ctx.account();
    const other = await ctx.account();
    // a second number of the account
    const second = randomLongCode();
    expect((await ctx.admin('POST', '/numbers', { number: second, kind: 'long_code' })).status).toBe(201);
    expect((await ctx.admin('POST', `/numbers/${encodeURIComponent(second)}/accounts`, { sid: a.sid })).status).toBe(201);
    const ids = await storeMos(a, 60, (i) => ({
      at: T0 + Math.floor(i / 4) * 60_000, keyword: i % 3 === 0 ? 'JOIN' : null, recipient: i % 5 === 0 ? second : a.number,
    }));
    await storeMos(other, 20, (i) => ({ at: T0 + i * 60_000, keyword: 'JOIN' }));
    const newestFirst = ids.map((id, i) => ({ id, i })).reverse();
    const expectIds = (keep: (i: number) => boolean) => newestFirst.filter((r) => keep(r.i)).map((r) => r.id);

    expect((await walk(a, '/logs?limit=4&keyword=join', (r) => r.id)).rows).toEqual(expectIds((i) => i % 3 === 0));
    expect((await walk(a, `/logs?limit=4&number=${encodeURIComponent(second)}`, (r) => r.id)).rows).toEqual(expectIds((i) => i % 5 === 0));
    expect((await walk(a, '/logs?limit=7&outcome=no_match', (r) => r.id)).rows).toEqual(expectIds((i) => i % 3 !== 0));
    // [T0 + 3 min, T0 + 9 min): MOs 12 … 35
    const since = iso(T0 + 3 * 60_000);
    const until = iso(T0 + 9 * 60_000);
    expect((await walk(a, `/logs?limit=5&since=${since}&until=${until}`, (r) => r.id)).rows).toEqual(expectIds((i) => i >= 12 && i < 36));
    expect((await walk(a, `/logs?limit=3&keyword=JOIN&since=${since}&until=${until}`, (r) => r.id)).rows)
      .toEqual(expectIds((i) => i >= 12 && i < 36 && i % 3 === 0));
    expect((await walk(a, `/logs?limit=9&since=${since}`, (r) => r.id)).rows).toEqual(expectIds((i) => i >= 12));
  });

  it('pages a window of more than ten thousand messages (read in seq order) as one of a few', async () => {
    const a = await ctx.account();
    const ids = await storeMos(a, 10_500, (i) => ({ at: T0 + i * 1000 }));
    const newestFirst = [...ids].reverse();
    // since only: the window reaches the newest messages and is walked in seq order
    const since = iso(T0 + 300 * 1000);
    const first = (await a.call('GET', `/logs?limit=500&since=${since}`)) as Page;
    expect(first.body.data.map((r) => r.id)).toEqual(newestFirst.slice(0, 500));
    const second = (await a.call('GET', `/logs?limit=500&since=${since}&cursor=${first.body.next_cursor}`)) as Page;
    expect(second.body.data.map((r) => r.id)).toEqual(newestFirst.slice(500, 1000));
    // a window that ends where more than ten thousand are newer than it does not exist here; a
    // small one long before the newest is read whole from the received_at index
    const old = (await a.call('GET', `/logs?limit=50&since=${iso(T0)}&until=${iso(T0 + 20_000)}`)) as Page;
    expect(old.body.data.map((r) => r.id)).toEqual(ids.slice(0, 20).reverse());
    expect(old.body.next_cursor).toBeNull();
  });
});

describe('cursors of the other lists', () => {
  it('deliveries: created at one instant in bulk, walked once each in (created_at DESC, id) order, with a status filter', async () => {
    const a = await ctx.account();
    const [log] = await storeMos(a, 1, () => ({ at: T0 }));
    const rows = Array.from({ length: 17 }, (_, i) => ({
      id: `${randomId('dl')}-${String(i).padStart(2, '0')}`, sid: a.sid, log_id: log!, url: 'https://example.com/hook', method: 'POST',
      status: i % 4 === 0 ? 'failed' : 'succeeded',
      // five instants, some rows a microsecond apart (a cursor must keep microseconds)
      created_at: h.sql`${iso(T0 + (i % 5) * 1000)}::timestamptz + ${(i % 2)} * interval '1 microsecond'`,
    }));
    for (const r of rows) {
      await h.sql`
        INSERT INTO deliveries (id, sid, log_id, url, method, status, created_at)
        VALUES (${r.id}, ${r.sid}, ${r.log_id}, ${r.url}, ${r.method}, ${r.status}, ${r.created_at})`;
    }
    const expected = await h.sql<{ id: string }[]>`SELECT id FROM deliveries WHERE sid = ${a.sid} ORDER BY created_at DESC, id`;
    expect(new Set(expected.map((r) => r.id)).size).toBe(17);
    const all = await walk(a, '/deliveries?limit=3', (r) => r.id);
    expect(all.rows).toEqual(expected.map((r) => r.id));
    const failed = await h.sql<{ id: string }[]>`SELECT id FROM deliveries WHERE sid = ${a.sid} AND status = 'failed' ORDER BY created_at DESC, id`;
    expect((await walk(a, '/deliveries?limit=2&status=failed', (r) => r.id)).rows).toEqual(failed.map((r) => r.id));
    expect((await walk(a, `/deliveries?limit=4&log_id=${log}`, (r) => r.id)).rows).toEqual(expected.map((r) => r.id));
  });

  it('the outbox, newest first, with a channel filter', async () => {
    const a = await ctx.account();
    const prefix = randomId('ob');
    const rows = Array.from({ length: 13 }, (_, i) => ({
      id: `${prefix}-${i}`, sid: a.sid, channel: i % 3 ? 'sms' : 'email', purpose: i % 3 ? 'api' : 'forward_email',
      sender: 'ACME', recipient: '+15551230000', body: `b${i}`, provider: 'log', status: 'sent', created_at: new Date(T0),
    }));
    for (const r of rows) await h.sql`INSERT INTO outbox ${h.sql(r)}`;
    const ids = rows.map((r) => r.id).reverse();
    expect((await walk(a, '/messages?limit=4', (r) => r.id)).rows).toEqual(ids);
    expect((await walk(a, '/messages?limit=2&channel=email', (r) => r.id)).rows).toEqual(ids.filter((id) => Number(id.split('-').at(-1)) % 3 === 0));
  });

  it('subscriptions (ties on updated_at), their history and the consent ledger', async () => {
    const a = await ctx.account();
    const customers = Array.from({ length: 11 }, (_, i) => `+1555777${String(i).padStart(4, '0')}`);
    for (const [i, msisdn] of customers.entries()) {
      for (const sender of ['*', 'ACME']) {
        await h.sql`
          INSERT INTO subscriptions (sid, msisdn, sender_id, status, updated_at)
          VALUES (${a.sid}, ${msisdn}, ${sender}, ${i % 2 ? 'subscribed' : 'unsubscribed'}, ${new Date(T0 + (i % 3) * 1000)})`;
        await h.sql`
          INSERT INTO subscription_events (sid, msisdn, sender_id, status, created_at)
          VALUES (${a.sid}, ${msisdn}, ${sender}, ${i % 2 ? 'subscribed' : 'unsubscribed'}, ${new Date(T0)})`;
      }
      await h.sql`
        INSERT INTO consent_ledger (sid, msisdn, direction, senders, cause, channel, status)
        VALUES (${a.sid}, ${msisdn}, ${i % 2 ? 'opt_in' : 'opt_out'}, '{*}', 'api', 'api', 'applied')`;
    }
    const subs = await h.sql<{ msisdn: string; sender_id: string }[]>`
      SELECT msisdn, sender_id FROM subscriptions WHERE sid = ${a.sid} ORDER BY updated_at DESC, msisdn, sender_id`;
    const key = (r: { number?: string; msisdn?: string; sender_id: string }) => `${r.number ?? r.msisdn}/${r.sender_id}`;
    expect((await walk(a, '/subscriptions?limit=3', key)).rows).toEqual(subs.map(key));
    const unsub = await h.sql<{ msisdn: string; sender_id: string }[]>`
      SELECT msisdn, sender_id FROM subscriptions WHERE sid = ${a.sid} AND status = 'unsubscribed' ORDER BY updated_at DESC, msisdn, sender_id`;
    expect((await walk(a, '/subscriptions?limit=4&status=unsubscribed', key)).rows).toEqual(unsub.map(key));

    const events = await h.sql<{ msisdn: string; sender_id: string }[]>`SELECT msisdn, sender_id FROM subscription_events WHERE sid = ${a.sid} ORDER BY id DESC`;
    expect((await walk(a, '/subscriptions/history?limit=5', key)).rows).toEqual(events.map(key));
    const ledger = await h.sql<{ id: string }[]>`SELECT id FROM consent_ledger WHERE sid = ${a.sid} ORDER BY id DESC`;
    expect((await walk(a, '/subscriptions/ledger?limit=4', (e) => e.id)).rows).toEqual(ledger.map((r) => String(r.id)));
    const one = await walk(a, `/subscriptions/${encodeURIComponent(customers[3]!)}/history?limit=1`, (e) => e.number);
    expect(one.rows).toEqual([customers[3]]);
  });

  it('answers a cursor it did not make with a 400 naming cursor', async () => {
    const a = await ctx.account();
    const bad = [
      'not a cursor', '!!!', encodeCursor('logs', ['x']), encodeCursor('logs', ['99999999999999999999']), encodeCursor('logs', []),
      Buffer.from('{"a":1}').toString('base64url'), encodeCursor('deliveries', ['2026-03-01T10:00:00.000000Z', 'x']),
    ];
    for (const cursor of bad) {
      const res = await a.call('GET', `/logs?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_field', field: 'cursor' });
    }
    // a list's cursor is not another list's
    const logs = encodeCursor('logs', ['5']);
    for (const path of ['/deliveries', '/messages', '/subscriptions', '/subscriptions/history', '/subscriptions/ledger', '/subscriptions/%2B15550000000/history']) {
      const res = await a.call('GET', `${path}?cursor=${logs}`);
      expect(res.status, path).toBe(400);
      expect(res.body.error.field, path).toBe('cursor');
    }
    expect((await a.call('GET', `/deliveries?cursor=${encodeCursor('deliveries', ['2026-13-01T10:00:00.000000Z', 'x'])}`)).status).toBe(400);
  });

  it('declares cursor and next_cursor in the OpenAPI document', async () => {
    const doc = (await ctx.request('GET', '/openapi.json')).body;
    for (const path of ['/v1/{sid}/logs', '/v1/{sid}/deliveries', '/v1/{sid}/messages', '/v1/{sid}/subscriptions', '/v1/{sid}/subscriptions/history', '/v1/{sid}/subscriptions/ledger', '/v1/{sid}/subscriptions/{msisdn}/history']) {
      const op = doc.paths[path].get;
      expect(op.parameters.map((p: any) => p.name), path).toEqual(expect.arrayContaining(['limit', 'offset', 'cursor']));
      const schema = op.responses['200'].content['application/json'].schema;
      expect(schema.properties.next_cursor, path).toMatchObject({ type: ['string', 'null'] });
      expect(schema.required, path).toContain('next_cursor');
    }
  });
});

describe('the plans use the read indexes (migration 020)', () => {
  it('names the index for a rare keyword, a time window, a delivery by message and a rare outbox status', async () => {
    const a = await ctx.account();
    const ids = await storeMos(a, 20_000, (i) => ({ at: T0 + i * 1000, keyword: i % 2000 === 7 ? 'RARE' : `KW${i % 50}` }));
    await h.sql`
      INSERT INTO deliveries (id, sid, log_id, url, method, status)
      SELECT 'd-' || m.id, m.sid, m.id, 'https://example.com', 'POST', 'succeeded' FROM inbound_messages m WHERE m.sid = ${a.sid}`;
    await h.sql`
      INSERT INTO outbox (id, sid, log_id, channel, purpose, sender, recipient, body, provider, status)
      SELECT 'o-' || m.id, m.sid, m.id, 'sms', 'auto_reply', 'ACME', m.source, 'hi', 'log', CASE WHEN m.seq % 1000 = 0 THEN 'failed' ELSE 'sent' END
      FROM inbound_messages m WHERE m.sid = ${a.sid}`;
    for (const t of ['inbound_messages', 'deliveries', 'outbox']) await h.sql`ANALYZE ${h.sql(t)}`;
    const plan = async (query: ReturnType<typeof h.sql>) => {
      const rows = await h.sql<{ 'QUERY PLAN': string }[]>`EXPLAIN ${query}`;
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    expect(await plan(h.sql`SELECT * FROM inbound_messages WHERE sid = ${a.sid} AND upper(keyword) = 'RARE' ORDER BY seq DESC LIMIT 51`))
      .toContain('inbound_messages_sid_keyword');
    expect(await plan(h.sql`
      SELECT seq FROM (SELECT seq FROM inbound_messages WHERE sid = ${a.sid} AND received_at >= ${new Date(T0 + 5000_000)} AND received_at < ${new Date(T0 + 5100_000)} OFFSET 0) w
      ORDER BY seq DESC LIMIT 51`)).toContain('inbound_messages_sid_received');
    expect(await plan(h.sql`SELECT * FROM deliveries WHERE sid = ${a.sid} AND log_id = ${ids[123]!} ORDER BY created_at DESC, id LIMIT 101`))
      .toContain('deliveries_log');
    expect(await plan(h.sql`SELECT * FROM outbox WHERE sid = ${a.sid} AND status = 'failed' ORDER BY seq DESC LIMIT 51`))
      .toContain('outbox_sid_status');
    // and the route answers the rare keyword whole
    const rare = (await a.call('GET', '/logs?keyword=rare')) as Page;
    expect(rare.body.data.map((r) => r.id)).toEqual(ids.filter((_, i) => i % 2000 === 7).reverse());
  });
});

describe('the dry run says what it covered', () => {
  const config = (a: Account) => ({ number: a.number, keyword: 'HELLO', subscribe: true });

  it('covers the whole window when it can, and only whole instants when its message budget stops it', async () => {
    // newest first: A at t1; B, C, D at t2; E at t3
    const t1 = T0 + 3000;
    const t2 = T0 + 2000;
    const t3 = T0 + 1000;
    const replay = async (maxMessages: string, times = [t3, t2, t2, t2, t1]) => {
      const c = h.context({ DRY_RUN_MAX_MESSAGES: maxMessages });
      const a = await c.account();
      await storeMos(a, times.length, (i) => ({ at: times[i]! }));
      const res = await a.call('POST', '/receive-configs/dry-run', { since: iso(T0), config: config(a) });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    };
    expect(await replay('100')).toMatchObject({
      scanned: 5, matched: 5, limit: 100, truncated: false, truncated_reason: null, covered_from: iso(T0), oldest_scanned_at: iso(t3),
    });
    // four read: the fourth ends t2's messages (the next is at t3), so t2 is whole
    expect(await replay('4')).toMatchObject({ scanned: 4, matched: 4, truncated: true, truncated_reason: 'messages', covered_from: iso(t2) });
    // three read: t2 has one more, so only t1 is covered
    expect(await replay('3')).toMatchObject({ scanned: 1, matched: 1, truncated: true, truncated_reason: 'messages', covered_from: iso(t1) });
    // one read: t1 is whole
    expect(await replay('1')).toMatchObject({ scanned: 1, truncated: true, covered_from: iso(t1) });
    // two read of three at the newest instant: no instant is whole, nothing is counted
    expect(await replay('2', [t1, t1, t1])).toMatchObject({ scanned: 0, matched: 0, truncated: true, covered_from: null, oldest_scanned_at: null });
  });

  it('stops when its time is spent, after a chunk, and says so', async () => {
    const c = h.context({ DRY_RUN_MAX_SECONDS: '0.000001' });
    const a = await c.account();
    await storeMos(a, 5_100, (i) => ({ at: T0 + i * 1000 }));
    const res = await a.call('POST', '/receive-configs/dry-run', { since: iso(T0), config: config(a) });
    expect(res.status).toBe(200);
    // the first chunk (5,000, newest first) is read: 100 messages are left out
    expect(res.body).toMatchObject({ scanned: 5_000, truncated: true, truncated_reason: 'time', covered_from: iso(T0 + 100 * 1000) });
    expect(Date.parse(res.body.covered_to)).toBeGreaterThanOrEqual(Date.parse(res.body.judged_at));
  });
});
