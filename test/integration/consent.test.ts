// SPEC §5.1 (issue 17, part 1 and 2): a STOP counts from its acknowledgement, whatever the
// carrier's clock says, however many runs are queued, and while Temporal is down; every change
// is in the consent ledger, naming the MO that caused it. Real PostgreSQL and Temporal.
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyConsent, LATE_SUPERSEDED, recordLateEntry } from '../../src/consent/ledger.js';
import { MessageWriter, type NewMessage } from '../../src/ingest/writer.js';
import { Harness, randomId, type Account } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';

const s = temporalSuite();

const customer = () => `+9198${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
const sendTo = (a: Account, to: string) => a.call('POST', '/messages', { to, sender: 'ALPHA', body: 'hello' });
const history = async (a: Account, to: string) => (await a.call('GET', `/subscriptions/${encodeURIComponent(to)}/history`)).body.data as any[];

describe('a STOP counts from its acknowledgement', () => {
  it('while Temporal is down: the send API refuses the customer at once, and the ledger names the MO', async () => {
    // A harness whose Temporal cannot be reached: ingest still stores, as during an outage.
    const down = await Harness.create();
    try {
      const ctx = down.context();
      const a = await ctx.account({ senders: ['ALPHA'] });
      const to = customer();
      expect((await sendTo(a, to)).status).toBe(201);
      const id = randomId('stop');
      const stop = await a.send('STOP', { id, source: to });
      expect(stop.status).toBe(202);
      const refused = await sendTo(a, to);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'opted_out', field: 'to' });
      expect(await history(a, to)).toEqual([
        expect.objectContaining({ number: to, direction: 'opt_out', senders: ['*'], cause: 'mo', log_id: id, keyword: 'STOP', channel: 'http', via_number: a.number, status: 'pending', reason: null }),
      ]);
      // Another customer of the account is not touched.
      expect((await sendTo(a, customer())).status).toBe(201);
    } finally {
      await down.close();
    }
  });

  it('while 1,500 runs are queued ahead of it: the send API refuses the customer at once', { timeout: 180_000 }, async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA'] });
    await a.config({ keyword: 'OFFER', trigger: { url: s.hooks.url('/backlog') } });
    // No worker: every run waits in Temporal or in the starter's queue.
    const queue = Array.from({ length: 1500 }, (_, i) => i);
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const res = await a.send('OFFER', { source: customer() });
        expect(res.status).toBe(202);
      }
    }));
    const to = customer();
    const stop = await a.send('STOP', { source: to });
    expect(stop.status).toBe(202);
    const [row] = await s.h.sql`SELECT count(*)::int AS n FROM inbound_messages WHERE sid = ${a.sid} AND run_status IS DISTINCT FROM 'completed'`;
    expect(row!.n).toBeGreaterThanOrEqual(1500);
    expect((await sendTo(a, to)).status).toBe(403);
    expect((await a.call('GET', `/logs/${stop.body.id}`)).body.actions).toEqual([]);
  });

  it('START then STOP with any pair of carrier timestamps ends opted out, and the runs record both', { timeout: 120_000 }, async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA'] });
    // [START's received_at, STOP's]: the STOP stamped four hours behind on a carrier's local
    // clock (Kaleyra's format), ahead, the same second, unreadable.
    const pairs: [string | undefined, string | undefined][] = [
      ['2026-06-01T14:00:00Z', '2026-06-01 10:00:00'],
      ['2026-06-01 10:00:00', '2026-06-01T14:00:00Z'],
      ['2026-06-01T14:00:00Z', '2026-06-01T14:00:00Z'],
      ['2026-06-01T14:00:00+05:30', 'yesterday'],
      [undefined, '2001-01-01T00:00:00Z'],
    ];
    await ctx.withWorker(async () => {
      for (const [startAt, stopAt] of pairs) {
        const to = customer();
        const start = await a.send('START', { source: to, ...(startAt ? { received_at: startAt } : {}) });
        const stop = await a.send('STOP', { source: to, ...(stopAt ? { received_at: stopAt } : {}) });
        expect([start.status, stop.status]).toEqual([202, 202]);
        // At once, before either run has run...
        expect((await sendTo(a, to)).status, `${startAt} / ${stopAt}`).toBe(403);
        const [started, stopped] = [await ctx.result(start.body.workflow_id), await ctx.result(stop.body.workflow_id)];
        expect(started.actions.subscribe).toBe('succeeded');
        expect(stopped.actions.unsubscribe, `${startAt} / ${stopAt}`).toBe('succeeded');
        // ...and after both.
        expect((await sendTo(a, to)).status, `${startAt} / ${stopAt}`).toBe(403);
        const entries = await history(a, to);
        expect(entries.map((e) => [e.direction, e.log_id, e.status])).toEqual([
          ['opt_out', stop.body.id, 'applied'],
          ['opt_in', start.body.id, 'applied'],
        ]);
        expect(Number(entries[0].id)).toBeGreaterThan(Number(entries[1].id));
      }
    });
    // The ledger's CSV export names every MO.
    const csv = await ctx.request('GET', `/v1/${a.sid}/subscriptions/ledger?format=csv`, undefined, { 'api-key': a.apiKey });
    expect(csv.status).toBe(200);
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]).toBe('id,number,direction,senders,cause,log_id,keyword,channel,via_number,status,reason,created_at,applied_at');
    expect(lines).toHaveLength(1 + pairs.length * 2);
    expect(lines.filter((l) => l.includes(',opt_out,*,mo,') && l.includes(',STOP,http,'))).toHaveLength(pairs.length);
  });

  it('applies a customer\'s changes in arrival order whichever run applies first', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA'] });
    const to = customer();
    // No worker: the test applies the entries itself, the STOP's first.
    const start = await a.send('START', { source: to });
    const stop = await a.send('STOP', { source: to });
    const start2 = await a.send('START', { source: to });
    const applied = await applyConsent(s.h.sql, stop.body.id, a.sid);
    expect(applied).toMatchObject({ status: 'applied', written: ['*'] });
    // The earlier START was applied on the way, before it; the later START is still pending.
    expect((await history(a, to)).map((e) => [e.log_id, e.status])).toEqual([
      [start2.body.id, 'pending'],
      [stop.body.id, 'applied'],
      [start.body.id, 'applied'],
    ]);
    // The later START, pending, is in force: the customer may be sent to again.
    expect((await sendTo(a, to)).status).toBe(201);
    // A late run of the first START (or its retry) changes nothing.
    expect(await applyConsent(s.h.sql, start.body.id, a.sid)).toMatchObject({ status: 'applied' });
    expect(await applyConsent(s.h.sql, start2.body.id, a.sid)).toMatchObject({ status: 'applied' });
    const [row] = await s.h.sql`SELECT status, log_id FROM subscriptions WHERE sid = ${a.sid} AND msisdn = ${to} AND sender_id = '*'`;
    expect(row).toEqual({ status: 'subscribed', log_id: start2.body.id });
  });

  it('two runs applying at once both find their entry applied', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA'] });
    for (let i = 0; i < 10; i++) {
      const to = customer();
      const start = await a.send('START', { source: to });
      const stop = await a.send('STOP', { source: to });
      const [started, stopped] = await Promise.all([applyConsent(s.h.sql, start.body.id, a.sid), applyConsent(s.h.sql, stop.body.id, a.sid)]);
      expect([started?.status, stopped?.status]).toEqual(['applied', 'applied']);
      expect((await sendTo(a, to)).status).toBe(403);
    }
  });

  it('a configuration\'s unsubscribe counts from its acknowledgement too, with its keyword', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA', 'BETA'] });
    await a.config({ keyword: 'LEAVE', unsubscribe: { scope: 'configured', senders: ['ALPHA'] } });
    const to = customer();
    const quit = await a.send('LEAVE now', { source: to });
    expect(quit.body.outcome).toBe('keyword');
    expect((await sendTo(a, to)).status).toBe(403);
    expect((await a.call('POST', '/messages', { to, sender: 'BETA', body: 'x' })).status).toBe(201);
    expect(await history(a, to)).toEqual([expect.objectContaining({ direction: 'opt_out', senders: ['ALPHA'], keyword: 'LEAVE', log_id: quit.body.id })]);
  });

  it('the instant auto reply of a configuration that opts out confirms its own change only', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA', 'BETA'] });
    await a.config({ keyword: 'LEAVE', unsubscribe: { scope: 'configured', senders: ['ALPHA'] }, auto_reply: { sender: 'ALPHA', message: 'You left ALPHA' } });
    const fresh = customer();
    const stopped = customer();
    await ctx.withWorker(async () => {
      // A customer who opted out of everything before is not written to by LEAVE's reply.
      const stop = await a.send('STOP', { source: stopped });
      await ctx.result(stop.body.workflow_id);
      const leaveStopped = await a.send('LEAVE', { source: stopped });
      expect((await ctx.result(leaveStopped.body.workflow_id)).actions).toMatchObject({ auto_reply: 'skipped', unsubscribe: 'succeeded' });
      // One who had not gets the confirmation of this opt-out, from the sender it opts out of.
      const leaveFresh = await a.send('LEAVE', { source: fresh });
      expect((await ctx.result(leaveFresh.body.workflow_id)).actions).toMatchObject({ auto_reply: 'succeeded', unsubscribe: 'succeeded' });
    });
    expect((await sendTo(a, fresh)).status).toBe(403);
  });

  it('stores the same carrier id twice in one batch once, with one ledger entry', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA'] });
    const writer = new MessageWriter(s.h.sql);
    const to = customer();
    const base = (id: string, message: string): NewMessage => ({
      id, sid: a.sid, source: to, recipient: a.number, message, operator: null, circle: null, receivedAt: new Date(), keyword: 'STOP',
      outcome: 'standard', configId: null, matchedWords: 1, workflowId: `mo-${id}`, needsRun: false, notes: [], gatewayId: null,
      consent: [{ sid: a.sid, msisdn: to, direction: 'opt_out', senders: ['*'] }], channel: 'http',
    });
    const dup = randomId('dup');
    // The first write holds the writer, so the two copies behind it go in one batch.
    const [first, one, two] = await Promise.all([writer.write(base(randomId('lead'), 'STOP')), writer.write(base(dup, 'STOP')), writer.write(base(dup, 'STOP'))]);
    expect([first.inserted, one.inserted, two.inserted]).toEqual([true, true, false]);
    const [row] = await s.h.sql`SELECT count(*)::int AS n FROM consent_ledger WHERE log_id = ${dup}`;
    expect(row!.n).toBe(1);
  });

  it('an MO stored before the ledger records no change over a later one of the same customer', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA'] });
    const to = customer();
    // A START stored by the version before the ledger: no entry; its run has not run yet.
    const old = randomId('old');
    await s.h.sql`INSERT INTO inbound_messages (id, sid, source, recipient, message, received_at, outcome, keyword, workflow_id, dispatch_state)
                  VALUES (${old}, ${a.sid}, ${to}, ${a.number}, 'START', now(), 'standard', 'START', ${'mo-' + old}, 'started')`;
    expect((await a.send('STOP', { source: to })).status).toBe(202);
    await recordLateEntry(s.h.sql, { sid: a.sid, msisdn: to, direction: 'opt_in', senders: ['*'], logId: old, viaNumber: a.number });
    expect(await applyConsent(s.h.sql, old, a.sid)).toMatchObject({ status: 'skipped', reason: LATE_SUPERSEDED });
    expect((await sendTo(a, to)).status).toBe(403);
  });
});
