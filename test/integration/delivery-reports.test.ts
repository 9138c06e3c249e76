import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createIngestion } from '../../src/ingest/ingest.js';
import { recordSentPart } from '../../src/outbound/delivery-reports.js';
import { createSmsProvider } from '../../src/outbound/sms-providers.js';
import { connectTemporal } from '../../src/runtime/temporal.js';
import { deliveryReportSignal, stateQuery } from '../../src/workflows/definitions.js';
import { ADMIN_TOKEN, INGEST_TOKEN, randomId, type Account, type Ctx, type Res } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';
import { eventually, within } from '../helpers/wait.js';

// SPEC §6 POST / GET /v1/delivery-reports, §8: reports update the outbox and end a run's wait.
const s = temporalSuite();
const GATEWAY = { authorization: `Bearer ${INGEST_TOKEN}` };

const report = (ctx: Ctx, body: unknown, headers: Record<string, string> = GATEWAY): Promise<Res> =>
  ctx.request('POST', '/v1/delivery-reports', body, headers);
/** Kannel's dlr-url style: everything in the query, the token too. */
const reportByUrl = (ctx: Ctx, query: Record<string, string>, token = INGEST_TOKEN): Promise<Res> =>
  ctx.request('GET', `/v1/delivery-reports?${new URLSearchParams({ token, ...query })}`);

type OutboxView = { id: string; purpose: string; status: string; provider_message_id: string | null; delivery_status: string | null; delivery_error_code: string | null };
async function outbox(a: Account, logId: string): Promise<OutboxView[]> {
  return (await a.call('GET', `/messages?log_id=${encodeURIComponent(logId)}`)).body.data;
}

describe('the route', () => {
  it('takes the gateway token, names the field at fault, and answers 202 matched:false for an SMS it does not know', async () => {
    const ctx = s.h.context();
    const ok = { message_id: randomId('nope'), status: 'DELIVERED' };
    expect((await report(ctx, ok, {})).status).toBe(401);
    expect((await report(ctx, ok, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await report(ctx, ok, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(401);
    // The token goes in the query only for the GET form.
    expect((await ctx.request('POST', `/v1/delivery-reports?token=${INGEST_TOKEN}`, ok)).status).toBe(401);
    expect((await reportByUrl(ctx, ok, 'wrong')).status).toBe(401);

    const field = async (res: Promise<Res>) => {
      const r = await res;
      expect(r.status).toBe(400);
      return r.body.error.field;
    };
    expect(await field(report(ctx, { status: 'DELIVERED' }))).toBe('message_id');
    expect(await field(report(ctx, { message_id: '  ', status: 'DELIVERED' }))).toBe('message_id');
    expect(await field(report(ctx, { message_id: 'm1' }))).toBe('status');
    expect(await field(report(ctx, { message_id: 'm1', status: '99' }))).toBe('status');
    expect(await field(report(ctx, { message_id: 'm1', status: '<b>' }))).toBe('status');
    expect(await field(report(ctx, { message_id: 'm1', status: 'DELIVERED', at: { when: 'now' } }))).toBe('at');
    expect(await field(report(ctx, 'not json'))).toBe('body');
    expect(await field(reportByUrl(ctx, { status: '1' }))).toBe('message_id');

    const unknown = await report(ctx, ok);
    expect(unknown).toEqual({ status: 202, body: { matched: false, reason: 'unknown' } });
    expect(await reportByUrl(ctx, { message_id: ok.message_id, status: '1' })).toEqual({ status: 202, body: { matched: false, reason: 'unknown' } });

    const doc = (await ctx.request('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/delivery-reports'])).toEqual(['post', 'get']);
    expect(doc.paths['/v1/delivery-reports'].post.requestBody.content['application/json'].schema.required).toEqual(['message_id', 'status']);
  });

  it('finds a send-API SMS by our id, or by the provider id only when one SMS carries it', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['BRAND'] });
    const send = async () => {
      const r = await a.call('POST', '/messages', { to: '+15555550123', sender: 'BRAND', body: 'hello' });
      expect(r.status).toBe(201);
      return r.body.id as string;
    };
    const [one, two] = [await send(), await send()];
    const shared = randomId('shared');
    await s.h.sql`UPDATE outbox SET provider_message_id = ${shared} WHERE id IN ${s.h.sql([one, two])}`;

    // Two providers (or accounts) may number alike: a shared provider id marks neither SMS.
    expect(await report(ctx, { message_id: shared, status: 'DELIVERED' })).toEqual({ status: 202, body: { matched: false, reason: 'ambiguous' } });
    const r = await report(ctx, { message_id: one, status: 'delivrd', error_code: 0, at: '2026-11-30 23:59:58' });
    expect(r).toEqual({
      status: 202,
      body: { matched: true, outbox_id: one, status: 'delivered', delivery_status: 'DELIVRD', final: true, duplicate: false, run: null },
    });
    const [row] = await s.h.sql`SELECT delivery_error_code, delivery_reported_at FROM outbox WHERE id = ${one}`;
    expect(row).toEqual({ delivery_error_code: '0', delivery_reported_at: new Date('2026-11-30T23:59:58Z') });

    // A time that cannot be read costs the report nothing: noted, and the arrival time kept.
    const noted = await report(ctx, { message_id: two, status: 'EXPIRED', at: 'yesterday' });
    expect(noted.body).toMatchObject({ matched: true, status: 'undelivered', notes: [expect.stringContaining('at: "yesterday"')] });
  });
});

describe('which SMS a gateway may report on', () => {
  it('an operator\'s gateway reaches only HTTP-reported SMS of its numbers, and cannot tell others\' SMS from none', async () => {
    const ctx = s.h.context();
    const [a, b] = [await ctx.account(), await ctx.account()];
    // An MO to each account's number (no configuration: stored, no run), which our SMS answer.
    const [moA, moB] = [randomId('mo'), randomId('mo')];
    await a.send('hello', { id: moA });
    await b.send('hello', { id: moB });
    const sms = async (o: { sid: string; logId: string | null; sender: string; provider: string; providerId: string | null }) => {
      const id = o.logId ? `mo-${o.logId}-auto_reply` : randomId('api');
      await s.h.sql`
        INSERT INTO outbox (id, sid, log_id, channel, purpose, sender, recipient, body, provider, status, provider_message_id)
        VALUES (${id}, ${o.sid}, ${o.logId}, 'sms', ${o.logId ? 'auto_reply' : 'api'}, ${o.sender}, '+919812345678', 'hi', ${o.provider}, 'sent', ${o.providerId})`;
      return id;
    };
    const shared = randomId('shared');
    const p = { replyA: randomId('p'), fromA: randomId('p'), replyB: randomId('p') };
    const replyA = await sms({ sid: a.sid, logId: moA, sender: 'BRAND', provider: 'http', providerId: p.replyA });
    const fromA = await sms({ sid: a.sid, logId: null, sender: a.number, provider: 'kaleyra', providerId: p.fromA });
    const replyB = await sms({ sid: b.sid, logId: moB, sender: 'BRAND', provider: 'http', providerId: p.replyB });
    await sms({ sid: b.sid, logId: null, sender: 'BRAND', provider: 'http', providerId: shared });
    await sms({ sid: b.sid, logId: null, sender: 'OTHER', provider: 'http', providerId: shared });
    const logged = await sms({ sid: a.sid, logId: null, sender: a.number, provider: 'log', providerId: null });
    const partId = randomId('smsc');
    const bySmpp = await sms({ sid: a.sid, logId: null, sender: a.number, provider: 'smpp', providerId: null });
    await recordSentPart(s.h.sql, { outboxId: bySmpp, connectionId: '00000000-0000-4000-8000-000000000002', total: 1, ids: [partId] });

    const gateway = async (numbers?: string[]) => {
      const res = await ctx.admin('POST', '/gateways', { name: randomId('gw'), ...(numbers ? { numbers } : {}) });
      expect(res.status).toBe(201);
      return { authorization: `Bearer ${res.body.token}` };
    };
    const limited = await gateway([a.number]);
    const unlimited = await gateway();
    const nothing = { status: 202, body: { matched: false } };
    const seen = (outboxId: string) => ({ status: 202, body: expect.objectContaining({ matched: true, outbox_id: outboxId }) });

    // Limited to a's number: a's reply (an MO to it) by our id, a's SMS from that number by the provider's id.
    expect(await report(ctx, { message_id: replyA, status: 'ENROUTE' }, limited)).toEqual(seen(replyA));
    expect(await report(ctx, { message_id: p.fromA, status: 'ENROUTE' }, limited)).toEqual(seen(fromA));
    // Anything else answers as an SMS that does not exist: b's, SMPP's, the log provider's, a shared id.
    for (const id of [replyB, p.replyB, partId, bySmpp, logged, shared, randomId('none')]) {
      expect(await report(ctx, { message_id: id, status: 'DELIVERED' }, limited), id).toEqual(nothing);
    }
    const byUrl = await ctx.request('GET', `/v1/delivery-reports?${new URLSearchParams({ token: limited.authorization.slice(7), message_id: replyB, status: '1' })}`);
    expect(byUrl).toEqual(nothing);
    const [untouched] = await s.h.sql`SELECT status, delivery_status FROM outbox WHERE id = ${replyB}`;
    expect(untouched).toEqual({ status: 'sent', delivery_status: null });

    // Any number, still only the HTTP-reporting providers' SMS.
    expect(await report(ctx, { message_id: p.replyB, status: 'ENROUTE' }, unlimited)).toEqual(seen(replyB));
    for (const id of [partId, logged, shared]) expect(await report(ctx, { message_id: id, status: 'ENROUTE' }, unlimited), id).toEqual(nothing);

    // The default gateway (INGEST_TOKEN) keeps finding every SMS, and says why it found none.
    expect(await report(ctx, { message_id: partId, status: 'ENROUTE' })).toEqual(seen(bySmpp));
    expect(await report(ctx, { message_id: logged, status: 'ENROUTE' })).toEqual(seen(logged));
    expect(await report(ctx, { message_id: shared, status: 'ENROUTE' })).toEqual({ status: 202, body: { matched: false, reason: 'ambiguous' } });
  });
});

describe('a run and its reports', () => {
  it('does not wait under the log provider, and a report after the run closed still updates the outbox', async () => {
    // SMS_PROVIDER defaults to log, which reports nothing: a long window must not hold the run.
    const ctx = s.h.context({ DELIVERY_REPORT_WAIT_SECONDS: '3600' });
    const a = await ctx.account({ senders: ['BRAND'] });
    await a.config({ keyword: 'LOGDLR', auto_reply: { sender: 'BRAND', message: 'logged' } });
    const id = randomId();
    await a.send('logdlr', { id });
    const state = await ctx.withWorker(() => within('the log provider run', ctx.result(`mo-${id}`)));
    expect(state).toMatchObject({ phase: 'completed', actions: { auto_reply: 'succeeded' } });
    const history = await ctx.client.workflow.getHandle(`mo-${id}`).fetchHistory();
    expect(history.events!.filter((e) => e.timerStartedEventAttributes)).toHaveLength(0);

    const r = await report(ctx, { message_id: `mo-${id}-auto_reply`, status: 'DELIVERED' });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ matched: true, status: 'delivered', final: true, duplicate: false, run: 'ended' });
    expect(await outbox(a, id)).toEqual([expect.objectContaining({ id: `mo-${id}-auto_reply`, status: 'delivered', delivery_status: 'DELIVERED' })]);
    const log = await a.call('GET', `/logs/${id}`);
    expect(log.body.actions).toEqual([expect.objectContaining({ type: 'auto_reply', status: 'succeeded', delivery_status: 'DELIVERED' })]);
  });

  it('ends the wait once each SMS has a final report; duplicates, interim statuses and late interim ones change nothing more', async () => {
    const path = `/sms-${randomId()}`;
    const ctx = s.h.context({ SMS_PROVIDER: 'http', SMS_HTTP_URL: s.hooks.url(path), DELIVERY_REPORT_WAIT_SECONDS: '3600' });
    s.hooks.script(path, [
      { status: 200, body: JSON.stringify({ message_id: randomId('prov') }) },
      { status: 200, body: JSON.stringify({ message_id: randomId('prov') }) },
    ]);
    const a = await ctx.account({ senders: ['BRAND', 'FWD'] });
    await a.config({ keyword: 'TRACK', auto_reply: { sender: 'BRAND', message: 'tracked' }, forward: { sms: { to: '+919800000001', sender: 'FWD' } } });
    const id = randomId();
    await a.send('track me', { id });

    const state = await ctx.withWorker(async () => {
      const handle = ctx.client.workflow.getHandle(`mo-${id}`);
      const rows = await eventually('both SMS sent', async () => {
        const all = await outbox(a, id);
        return all.length === 2 && all.every((x) => x.status === 'sent') ? all : null;
      });
      const reply = rows.find((x) => x.purpose === 'auto_reply')!;
      const forward = rows.find((x) => x.purpose === 'forward_sms')!;
      // The http provider keeps the message id its gateway answered with.
      expect(reply.provider_message_id).toMatch(/^prov-/);
      await eventually('the run waiting', async () => (await handle.query(stateQuery)).phase === 'waiting');

      // Interim statuses are noted only, by the provider's id or (Kannel %d = 8) by ours.
      expect((await report(ctx, { message_id: reply.provider_message_id, status: 'ENROUTE' })).body)
        .toMatchObject({ matched: true, outbox_id: reply.id, status: 'sent', delivery_status: 'ENROUTE', final: false, run: null });
      expect((await reportByUrl(ctx, { message_id: reply.id, status: '8' })).body)
        .toMatchObject({ matched: true, status: 'sent', delivery_status: 'ACCEPTED', final: false, run: null });

      // The reply's final report, then a gateway's retry of it: the retry is seen as one.
      const delivered = { message_id: reply.provider_message_id, status: 'delivered', error_code: '000', at: '2026-12-01T02:00:00Z' };
      expect((await report(ctx, delivered)).body).toMatchObject({ status: 'delivered', delivery_status: 'DELIVERED', final: true, duplicate: false, run: 'signalled' });
      expect((await report(ctx, delivered)).body).toMatchObject({ status: 'delivered', final: true, duplicate: true, run: null });
      // Another final word on the same SMS reaches the run, and a system signalling the run
      // directly repeats one: the run counts SMS, not reports, and keeps waiting for the forward.
      expect((await report(ctx, { message_id: reply.id, status: 'DELIVRD', error_code: '000' })).body).toMatchObject({ duplicate: false, run: 'signalled' });
      await handle.signal(deliveryReportSignal, { message_id: reply.provider_message_id!, status: 'DELIVERED' });
      expect((await handle.query(stateQuery)).phase).toBe('waiting');
      expect((await handle.describe()).status.name).toBe('RUNNING');

      // An interim status arriving late does not undo a final one.
      expect((await report(ctx, { message_id: reply.id, status: 'SENT' })).body).toMatchObject({ status: 'delivered', delivery_status: 'DELIVRD', final: false });

      // The forward's final report (Kannel %d = 2) ends the wait.
      expect((await reportByUrl(ctx, { message_id: forward.id, status: '2' })).body)
        .toMatchObject({ matched: true, outbox_id: forward.id, status: 'undelivered', delivery_status: 'UNDELIVERED', final: true, run: 'signalled' });
      return within('the run after its last report', handle.result());
    });
    expect(state).toMatchObject({ phase: 'completed', actions: { auto_reply: 'succeeded', forward_sms: 'succeeded' } });

    const after = await outbox(a, id);
    expect(after).toEqual(expect.arrayContaining([
      expect.objectContaining({ purpose: 'auto_reply', status: 'delivered', delivery_status: 'DELIVRD', delivery_error_code: '000' }),
      expect.objectContaining({ purpose: 'forward_sms', status: 'undelivered', delivery_status: 'UNDELIVERED' }),
    ]));
    const statuses = await s.h.sql<{ outbox_id: string; status: string; final: boolean }[]>`
      SELECT outbox_id, status, final FROM delivery_reports WHERE outbox_id IN ${s.h.sql(after.map((x) => x.id))} ORDER BY received_at, status`;
    expect(statuses.filter((x) => x.outbox_id === after.find((o) => o.purpose === 'auto_reply')!.id).map((x) => x.status))
      .toEqual(['ENROUTE', 'ACCEPTED', 'DELIVERED', 'DELIVRD', 'SENT']);
    const log = await a.call('GET', `/logs/${id}`);
    expect(log.body.actions).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'auto_reply', delivery_status: 'DELIVRD' }),
      expect.objectContaining({ type: 'forward_sms', delivery_status: 'UNDELIVERED' }),
    ]));
  });

  it('records a report when Temporal cannot be reached, and answers 202 all the same', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['BRAND'] });
    await a.config({ keyword: 'OUTAGE', auto_reply: { sender: 'BRAND', message: 'sent before the outage' } });
    const id = randomId();
    await a.send('outage', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));

    // An API process whose Temporal is out of reach (a port nothing listens on).
    const down = connectTemporal('127.0.0.1:9', 'default', null);
    try {
      const app = createApp({
        sql: s.h.sql, temporal: down.client, config: ctx.config, tokens: { admin: ADMIN_TOKEN, ingest: INGEST_TOKEN },
        sms: createSmsProvider(ctx.config), ingestion: createIngestion({ sql: s.h.sql, temporal: down.client, config: ctx.config }),
      });
      const res = await app.request('/v1/delivery-reports', {
        method: 'POST', headers: { ...GATEWAY, 'content-type': 'application/json' },
        body: JSON.stringify({ message_id: `mo-${id}-auto_reply`, status: 'REJECTD', error_code: 'E42' }),
      });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ matched: true, status: 'undelivered', final: true, run: 'not_signalled' });
    } finally {
      await down.close();
    }
    expect(await outbox(a, id)).toEqual([expect.objectContaining({ status: 'undelivered', delivery_status: 'REJECTD', delivery_error_code: 'E42' })]);
  });
});
