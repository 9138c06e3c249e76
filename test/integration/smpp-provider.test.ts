import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import type { PDU, Session } from 'smpp';
import { describe, expect, it } from 'vitest';
import { SmppBinds } from '../../src/smpp/binds.js';
import { recordSentPart } from '../../src/outbound/delivery-reports.js';
import { sendSms } from '../../src/outbound/send.js';
import { smppProvider, SUBMIT_WINDOW } from '../../src/smpp/provider.js';
import { stateQuery } from '../../src/workflows/definitions.js';
import { randomId, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';
import { eventually, within } from '../helpers/wait.js';

// SPEC §8: SMPP as an SMS provider: submit_sm over a transceiver bind, long texts in UDH
// parts, delivery receipts back as deliver_sm updating the outbox and ending a run's wait.
const s = temporalSuite();

/** An SMSC (the `smpp` package's server) that takes submit_sm, numbers them, and can send receipts. */
class Smsc {
  readonly server: smpp.Server;
  session: Session | null = null;
  bindCommands: string[] = [];
  submits: { pdu: PDU; at: number; id: string }[] = [];
  /** how long a bind waits for its bind_resp (an SMSC coming back) */
  bindDelayMs = 0;
  /** how long a submit_sm waits for its submit_sm_resp */
  respondDelayMs = 0;
  /** submit_sm awaiting their response now, and the most ever */
  outstanding = 0;
  maxOutstanding = 0;
  /** a receipt for every part, sent before its submit_sm_resp or right after it (a fast SMSC) */
  receiptOnSubmit: { stat: string; when: 'before' | 'after' } | null = null;
  /** the deliver_sm_resp statuses of those receipts */
  receiptAnswers: number[] = [];
  /** the n-th submit_sm (1-based) is refused once with this status */
  refuseOnce: { nth: number; status: number } | null = null;
  private next = 1;
  port = 0;

  constructor(readonly systemId: string, readonly password: string) {
    this.server = smpp.createServer({}, (session: Session) => {
      session.on('error', () => {});
      const onBind = (pdu: PDU) => {
        if (pdu.system_id !== this.systemId || pdu.password !== this.password) {
          session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
          session.close();
          return;
        }
        setTimeout(() => {
          this.bindCommands.push(pdu.command);
          session.send(pdu.response({ system_id: 'SMSC' }));
          this.session = session;
        }, this.bindDelayMs);
      };
      session.on('bind_transceiver', onBind);
      session.on('bind_receiver', onBind);
      session.on('bind_transmitter', onBind);
      session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
      session.on('submit_sm', (pdu: PDU) => {
        // ESME_RINVDSTADR for a number no network has.
        if (pdu.destination_addr === '000') return session.send(pdu.response({ command_status: 0x0b }));
        const nth = this.next++;
        if (this.refuseOnce?.nth === nth) {
          const status = this.refuseOnce.status;
          this.refuseOnce = null;
          return session.send(pdu.response({ command_status: status }));
        }
        const id = `smsc-${randomId('m')}-${nth}`;
        this.submits.push({ pdu, at: Date.now(), id });
        this.outstanding++;
        this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
        const receipt = this.receiptOnSubmit;
        if (receipt?.when === 'before') void this.receipt(id, receipt.stat, `+${pdu.destination_addr}`, session).then((st) => this.receiptAnswers.push(st));
        setTimeout(() => {
          this.outstanding--;
          session.send(pdu.response({ message_id: id }));
          if (receipt?.when === 'after') void this.receipt(id, receipt.stat, `+${pdu.destination_addr}`, session).then((st) => this.receiptAnswers.push(st));
        }, this.respondDelayMs);
      });
      session.on('unbind', (pdu: PDU) => {
        session.send(pdu.response());
        session.close();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** A delivery receipt for one of our submit_sm, as SMPP 3.4 Appendix B writes it; resolves with the ESME's answer. */
  receipt(id: string, stat: string, to: string, on: Session | null = this.session): Promise<number> {
    const session = on;
    if (!session) throw new Error('no bound ESME');
    const text = `id:${id} sub:001 dlvrd:001 submit date:2612010340 done date:2612010341 stat:${stat} err:000 text:`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no deliver_sm_resp')), 10_000);
      session.send(new smpp.PDU('deliver_sm', {
        source_addr_ton: 1, source_addr: to.replace(/^\+/, ''), destination_addr: 'BRAND', esm_class: 0x04, data_coding: 0,
        short_message: Buffer.from(text, 'latin1'),
      }), (resp: PDU) => {
        clearTimeout(timer);
        resolve(resp.command_status);
      });
    });
  }

  /** The concatenation reference (UDH IEI 0x00) of a submit_sm. */
  static ref(pdu: PDU): number {
    return (pdu.short_message.udh[0] as Buffer)[2]!;
  }

  close(): Promise<void> {
    for (const session of this.server.sessions) session.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** An SMSC of the test's own and an SMPP connection to it, made through the admin API. */
async function smscAndConnection(ctx: Ctx, name: string, extra: Record<string, unknown> = {}): Promise<Smsc> {
  const smsc = await new Smsc('esme', 'secret').start();
  const created = await ctx.admin('POST', '/smpp-connections', { name, host: '127.0.0.1', port: smsc.port, system_id: 'esme', password: 'secret', ...extra });
  if (created.status !== 201) throw new Error(`smpp connection: ${JSON.stringify(created.body)}`);
  return smsc;
}

type OutboxRow = { id: string; status: string; provider: string; provider_message_id: string | null; provider_part_ids: string[] | null; delivery_status: string | null };

describe('SMPP as an SMS provider (SPEC §8)', () => {
  it('sends a 200-character auto reply as two UDH parts; the receipts of both parts turn the outbox row delivered and end the run\'s wait', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context({ SMS_PROVIDER: 'smpp', SMPP_PROVIDER_CONNECTION: name, DELIVERY_REPORT_WAIT_SECONDS: '3600' });
    const smsc = await smscAndConnection(ctx, name);
    try {
      const a = await ctx.account({ senders: ['BRAND'] });
      const reply = ('Thanks for writing to us! ' + 'Your reply, long enough for two parts. ').repeat(4).slice(0, 200);
      expect(reply).toHaveLength(200);
      await a.config({ keyword: 'LONG', auto_reply: { sender: 'BRAND', message: reply } });
      const id = randomId();
      await a.send('long please', { id });
      const outboxId = `mo-${id}-auto_reply`;

      const state = await ctx.withWorker(async () => {
        const handle = ctx.client.workflow.getHandle(`mo-${id}`);
        const [row] = await eventually('the reply sent', async () => {
          const rows = await s.h.sql<OutboxRow[]>`SELECT id, status, provider, provider_message_id, provider_part_ids, delivery_status FROM outbox WHERE id = ${outboxId}`;
          return rows[0]?.status === 'sent' ? rows : null;
        });
        expect(smsc.bindCommands).toEqual(['bind_transceiver']);

        // Two submit_sm, each behind a UDH with one 8-bit reference, asking for receipts.
        expect(smsc.submits).toHaveLength(2);
        const pdus = smsc.submits.map((x) => x.pdu);
        for (const [i, p] of pdus.entries()) {
          expect(p).toMatchObject({ source_addr: 'BRAND', source_addr_ton: 5, destination_addr: '919812345678', dest_addr_ton: 1, data_coding: 0, registered_delivery: 1 });
          expect(p.esm_class & 0x40).toBe(0x40);
          const udh = p.short_message.udh[0] as Buffer;
          expect([...udh.subarray(0, 2)]).toEqual([0x00, 0x03]);
          expect([...udh.subarray(3)]).toEqual([2, i + 1]);
        }
        expect(Smsc.ref(pdus[0]!)).toBe(Smsc.ref(pdus[1]!));
        // The reference is the SMS's own, kept on its row for any resend.
        const [stored] = await s.h.sql<{ concat_ref: number }[]>`SELECT concat_ref FROM outbox WHERE id = ${outboxId}`;
        expect(stored!.concat_ref).toBe(Smsc.ref(pdus[0]!));
        expect(pdus.map((p) => p.short_message.message as string).join('')).toBe(reply);

        // The SMSC's ids: the first part's is the SMS's, every part's is kept.
        const ids = smsc.submits.map((x) => x.id);
        expect(row).toMatchObject({ provider: 'smpp', provider_message_id: ids[0], provider_part_ids: ids });
        await eventually('the run waiting for its report', async () => (await handle.query(stateQuery)).phase === 'waiting');

        // A receipt for the second part finds the SMS too; an interim status is noted only.
        expect(await smsc.receipt(ids[1]!, 'ACCEPTD', a.number)).toBe(0);
        const [noted] = await s.h.sql<OutboxRow[]>`SELECT status, delivery_status FROM outbox WHERE id = ${outboxId}`;
        expect(noted).toMatchObject({ status: 'sent', delivery_status: 'ACCEPTD' });
        expect((await handle.describe()).status.name).toBe('RUNNING');

        // One part delivered is not the SMS delivered: the row stays sent, the run keeps waiting.
        expect(await smsc.receipt(ids[0]!, 'DELIVRD', a.number)).toBe(0);
        const [half] = await s.h.sql<OutboxRow[]>`SELECT status, delivery_status FROM outbox WHERE id = ${outboxId}`;
        expect(half).toMatchObject({ status: 'sent', delivery_status: 'DELIVRD' });
        expect((await handle.query(stateQuery)).phase).toBe('waiting');
        expect((await handle.describe()).status.name).toBe('RUNNING');

        // The other part's final receipt: answered once recorded, the row delivered, the run's wait over.
        expect(await smsc.receipt(ids[1]!, 'DELIVRD', a.number)).toBe(0);
        const [delivered] = await s.h.sql<OutboxRow[]>`SELECT status, delivery_status FROM outbox WHERE id = ${outboxId}`;
        expect(delivered).toMatchObject({ status: 'delivered', delivery_status: 'DELIVRD' });
        const reports = await s.h.sql<{ part_id: string; status: string }[]>`
          SELECT part_id, status FROM delivery_reports WHERE outbox_id = ${outboxId} ORDER BY received_at`;
        expect(reports).toEqual([{ part_id: ids[1], status: 'ACCEPTD' }, { part_id: ids[0], status: 'DELIVRD' }, { part_id: ids[1], status: 'DELIVRD' }]);
        // A receipt naming no SMS of ours is acknowledged: a redelivery would change nothing.
        expect(await smsc.receipt('not-ours', 'DELIVRD', a.number)).toBe(0);
        return within('the run after its receipt', ctx.result(`mo-${id}`), 15_000);
      });
      expect(state).toMatchObject({ phase: 'completed', actions: { auto_reply: 'succeeded' } });
    } finally {
      await smsc.close();
    }
  });

  it('holds submit_sm under the connection\'s max_tps and refuses for good what the SMSC refuses for good', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context({ SMS_PROVIDER: 'smpp', SMPP_PROVIDER_CONNECTION: name });
    const smsc = await smscAndConnection(ctx, name, { max_tps: 2 });
    const provider = smppProvider(
      { sql: s.h.sql, ingestion: ctx.ingestion, temporal: ctx.client, secrets: ctx.config.keys.secrets!, log: () => {} },
      { connection: name },
    );
    try {
      // 5 parts (UCS-2: 67 units each) at 2 a second: two at once, two a second later, the last a second after.
      const body = 'ж'.repeat(67 * 4 + 10);
      const started = Date.now();
      const result = await provider.send({ id: randomId('tps'), sender: '+15550001', to: '+919812345678', body, route: null, template_id: null });
      expect(result.providerPartIds).toHaveLength(5);
      expect(smsc.submits.map((x) => x.pdu.data_coding)).toEqual([8, 8, 8, 8, 8]);
      const times = smsc.submits.map((x) => x.at - started);
      expect(times[4]! - times[0]!).toBeGreaterThanOrEqual(1900);
      // No second ever holds more than 2.
      for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 2]!).toBeGreaterThanOrEqual(900);
      expect(smsc.submits[0]!.pdu).toMatchObject({ source_addr: '15550001', source_addr_ton: 1 });

      await expect(provider.send({ id: randomId('bad'), sender: 'BRAND', to: '000', body: 'hi', route: null, template_id: null }))
        .rejects.toMatchObject({ name: 'PermanentSendError', message: expect.stringContaining('0x0000000b') });
      // A text UDH cannot number (over 255 parts) will never go: permanent, nothing sent.
      const sent = smsc.submits.length;
      await expect(provider.send({ id: randomId('huge'), sender: 'BRAND', to: '+919812345678', body: 'ж'.repeat(67 * 256), route: null, template_id: null }))
        .rejects.toMatchObject({ name: 'PermanentSendError', message: expect.stringContaining('255') });
      expect(smsc.submits).toHaveLength(sent);

      // A new max_tps applies to the next send without a new bind; a new password rebinds.
      const [conn] = await s.h.sql<{ id: string }[]>`SELECT id FROM smpp_connections WHERE name = ${name}`;
      expect((await ctx.admin('PATCH', `/smpp-connections/${conn!.id}`, { max_tps: 50 })).status).toBe(200);
      await provider.send({ id: randomId('after'), sender: 'BRAND', to: '+919812345678', body: 'hi', route: null, template_id: null });
      expect(smsc.bindCommands).toEqual(['bind_transceiver']);
      expect((await ctx.admin('PATCH', `/smpp-connections/${conn!.id}`, { password: 'secret' })).status).toBe(200);
      await provider.send({ id: randomId('rebound'), sender: 'BRAND', to: '+919812345678', body: 'hi', route: null, template_id: null });
      expect(smsc.bindCommands).toEqual(['bind_transceiver', 'bind_transceiver']);
    } finally {
      await provider.close();
      await smsc.close();
    }
  });

  it('records a receipt that comes on the connection\'s ingest bind, only on SMS sent over that connection, part by part', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context();
    const smsc = await smscAndConnection(ctx, name);
    const lines: string[] = [];
    const binds = new SmppBinds(
      { sql: s.h.sql, ingestion: ctx.ingestion, secrets: ctx.config.keys.secrets!, log: (line) => lines.push(line), temporal: ctx.client },
      { tickMs: 200, backoffInitialMs: 200, backoffMaxMs: 1000 },
    ).start();
    try {
      const a = await ctx.account();
      const [conn] = await s.h.sql<{ id: string }[]>`SELECT id FROM smpp_connections WHERE name = ${name}`;
      const sms = async (provider: string, ids: string[], connectionId: string | null = conn!.id) => {
        const outboxId = randomId('api');
        await s.h.sql`
          INSERT INTO outbox (id, sid, channel, purpose, sender, recipient, body, provider, status, provider_message_id)
          VALUES (${outboxId}, ${a.sid}, 'sms', 'api', 'BRAND', '+919812345678', 'hi', ${provider}, 'sent', ${ids[0] ?? null})`;
        // As the smpp provider records its parts (outbound/sms-parts.ts).
        if (connectionId) await recordSentPart(s.h.sql, { outboxId, connectionId, total: ids.length, ids });
        return outboxId;
      };
      const row = async (id: string) => (await s.h.sql<OutboxRow[]>`SELECT status, delivery_status FROM outbox WHERE id = ${id}`)[0];

      await eventually('the ingest bind', async () => smsc.session);
      expect(smsc.bindCommands).toEqual(['bind_transceiver']);
      const single = await sms('smpp', [randomId('smsc-id')]);
      const [singleId] = (await s.h.sql<{ provider_message_id: string }[]>`SELECT provider_message_id FROM outbox WHERE id = ${single}`).map((r) => r.provider_message_id);
      expect(await smsc.receipt(singleId!, 'UNDELIV', a.number)).toBe(0);
      expect(await row(single)).toMatchObject({ status: 'undelivered', delivery_status: 'UNDELIV' });
      const [report] = await s.h.sql`SELECT part_id, status, final FROM delivery_reports WHERE outbox_id = ${single}`;
      expect(report).toMatchObject({ part_id: singleId, status: 'UNDELIV', final: true });

      // Two parts: the first fails, the second is delivered later: the SMS stays undelivered.
      const parts = [randomId('p1'), randomId('p2')];
      const long = await sms('smpp', parts);
      expect(await smsc.receipt(parts[0]!, 'UNDELIV', a.number)).toBe(0);
      expect(await smsc.receipt(parts[1]!, 'DELIVRD', a.number)).toBe(0);
      expect(await row(long)).toMatchObject({ status: 'undelivered', delivery_status: 'UNDELIV' });

      // Not matched on this bind: an SMS another provider sent (by its id), one sent over another
      // connection, and any SMS by our outbox id. Each is acknowledged and logged, nothing changes.
      const kaleyraId = randomId('k');
      const kaleyra = await sms('kaleyra', [kaleyraId], null);
      const elsewhereId = randomId('other-conn');
      const elsewhere = await sms('smpp', [elsewhereId], '00000000-0000-4000-8000-000000000001');
      const byOurs = await sms('smpp', [randomId('ours')]);
      for (const id of [kaleyraId, elsewhereId, byOurs]) expect(await smsc.receipt(id, 'REJECTD', a.number)).toBe(0);
      for (const id of [kaleyra, elsewhere, byOurs]) expect(await row(id)).toMatchObject({ status: 'sent', delivery_status: null });
      for (const id of [kaleyraId, elsewhereId, byOurs]) {
        expect(lines.some((l) => l.includes(JSON.stringify(id)) && l.includes('matches no SMS'))).toBe(true);
      }
      // Kept a while, in case its SMS's id is recorded late.
      const kept = await s.h.sql`SELECT message_id, status FROM smpp_unmatched_receipts WHERE connection_id = ${conn!.id} ORDER BY id`;
      expect(kept.map((k) => k.message_id)).toEqual([kaleyraId, elsewhereId, byOurs]);
    } finally {
      await binds.stop();
      await smsc.close();
    }
  });

  it('records a fast SMSC\'s receipts, sent before or right after each submit_sm_resp, on the SMS', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context({ SMS_PROVIDER: 'smpp', SMPP_PROVIDER_CONNECTION: name });
    const smsc = await smscAndConnection(ctx, name);
    try {
      const a = await ctx.account({ senders: ['BRAND'] });
      for (const when of ['after', 'before'] as const) {
        smsc.receiptOnSubmit = { stat: 'DELIVRD', when };
        smsc.submits = [];
        smsc.receiptAnswers = [];
        // Through the send API, whose provider is this process's own bind.
        const sent = await a.call('POST', '/messages', { to: '+919812345678', sender: 'BRAND', body: `${when}: ${'x'.repeat(200)}` });
        expect(sent.status).toBe(201);
        await eventually('both receipts answered', async () => smsc.receiptAnswers.length === 2);
        expect(smsc.receiptAnswers).toEqual([0, 0]);
        const ids = smsc.submits.map((x) => x.id);
        expect(ids).toHaveLength(2);
        const [row] = await eventually('the SMS delivered', async () => {
          const rows = await s.h.sql<OutboxRow[]>`SELECT id, status, provider_part_ids, delivery_status FROM outbox WHERE id = ${sent.body.id}`;
          return rows[0]?.status === 'delivered' ? rows : null;
        });
        expect(row).toMatchObject({ status: 'delivered', delivery_status: 'DELIVRD', provider_part_ids: ids });
        const reports = await s.h.sql<{ part_id: string }[]>`SELECT part_id FROM delivery_reports WHERE outbox_id = ${sent.body.id} ORDER BY part_id`;
        expect(reports.map((r) => r.part_id)).toEqual([...ids].sort());
      }
      // A receipt kept for a moment is let go once applied.
      const [conn] = await s.h.sql<{ id: string }[]>`SELECT id FROM smpp_connections WHERE name = ${name}`;
      expect(await s.h.sql`SELECT 1 FROM smpp_unmatched_receipts WHERE connection_id = ${conn!.id}`).toHaveLength(0);
    } finally {
      await smsc.close();
    }
  });

  it('closes its bind when the SMSC has gone first (a socket already closed)', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context({ SMS_PROVIDER: 'smpp', SMPP_PROVIDER_CONNECTION: name });
    const smsc = await smscAndConnection(ctx, name);
    const a = await ctx.account({ senders: ['BRAND'] });
    expect((await a.call('POST', '/messages', { to: '+919812345678', sender: 'BRAND', body: 'bound' })).status).toBe(201);
    await smsc.close();
    // The provider's close ends (it waited for a 'close' that had already been said, for ever),
    // and a second close has nothing left to do.
    await ctx.sms.close!();
    await ctx.sms.close!();
    expect(smsc.submits).toHaveLength(1);
  });

  it('sends again only the parts not yet accepted, with the same reference', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context({ SMS_PROVIDER: 'smpp', SMPP_PROVIDER_CONNECTION: name });
    const smsc = await smscAndConnection(ctx, name);
    try {
      const a = await ctx.account({ senders: ['BRAND'] });
      const body = 'y'.repeat(153 * 2 + 10);
      // The second part is throttled once (ESME_RTHROTTLED): the send fails, to be retried.
      smsc.refuseOnce = { nth: 2, status: 0x58 };
      const first = await a.call('POST', '/messages', { to: '+919812345678', sender: 'BRAND', body });
      expect(first.status).toBe(503);
      expect(smsc.submits).toHaveLength(1);
      const [failed] = await s.h.sql<OutboxRow[]>`SELECT id, status, provider_part_ids FROM outbox WHERE sid = ${a.sid}`;
      expect(failed).toMatchObject({ status: 'failed', provider_part_ids: [smsc.submits[0]!.id] });

      // The retry (same Idempotency-Key as a client would give; here the same outbox row) sends parts 2 and 3 only.
      const retry = await sendSms({ sql: s.h.sql, sms: ctx.sms }, { id: failed!.id, sid: a.sid, logId: null, purpose: 'api', sender: 'BRAND', to: '+919812345678', body, route: null, templateId: null });
      expect(retry.outcome).toBe('sent');
      const udhs = smsc.submits.map((x) => [...(x.pdu.short_message.udh[0] as Buffer)]);
      expect(udhs.map((u) => u.slice(3))).toEqual([[3, 1], [3, 2], [3, 3]]);
      expect(new Set(smsc.submits.map((x) => Smsc.ref(x.pdu))).size).toBe(1);
      expect(retry.row).toMatchObject({ status: 'sent', provider_part_ids: smsc.submits.map((x) => x.id) });
    } finally {
      await smsc.close();
    }
  });

  it('gives long SMS in flight to one handset different references, even when their ids hash alike', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context({ SMS_PROVIDER: 'smpp', SMPP_PROVIDER_CONNECTION: name });
    const smsc = await smscAndConnection(ctx, name);
    try {
      const a = await ctx.account({ senders: ['BRAND'] });
      // Two outbox ids whose SHA-256 starts alike: the reference an id's hash gave them was one.
      const byte = (id: string) => createHash('sha256').update(id).digest()[0];
      const ids = [randomId('ref')];
      while (ids.length < 2) {
        const id = randomId('ref');
        if (byte(id) === byte(ids[0]!)) ids.push(id);
      }
      const to = `+9198${String(Date.now() % 100_000_000).padStart(8, '0')}`;
      for (const id of ids) {
        const r = await sendSms({ sql: s.h.sql, sms: ctx.sms }, { id, sid: a.sid, logId: null, purpose: 'api', sender: 'BRAND', to, body: 'z'.repeat(200), route: null, templateId: null });
        expect(r.outcome).toBe('sent');
      }
      const refs = smsc.submits.map((x) => Smsc.ref(x.pdu));
      expect(refs).toHaveLength(4);
      expect(refs[0]).toBe(refs[1]);
      expect(refs[2]).toBe(refs[3]);
      expect(refs[2]).not.toBe(refs[0]);
      const stored = await s.h.sql<{ id: string; concat_ref: number }[]>`SELECT id, concat_ref FROM outbox WHERE id IN ${s.h.sql(ids)}`;
      expect(Object.fromEntries(stored.map((r) => [r.id, r.concat_ref]))).toEqual({ [ids[0]!]: refs[0], [ids[1]!]: refs[2] });
    } finally {
      await smsc.close();
    }
  });

  it('keeps max_tps while the bind comes up late, and keeps at most the window awaiting answers', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context({ SMS_PROVIDER: 'smpp', SMPP_PROVIDER_CONNECTION: name });
    const smsc = await smscAndConnection(ctx, name, { max_tps: 5 });
    smsc.bindDelayMs = 3000;
    const provider = smppProvider(
      { sql: s.h.sql, ingestion: ctx.ingestion, temporal: ctx.client, secrets: ctx.config.keys.secrets!, log: () => {} },
      { connection: name },
    );
    try {
      // Twenty sends wait for the bind together; once it is up they go at 5 a second, not at once.
      await Promise.all(Array.from({ length: 20 }, (_, i) => provider.send({ id: randomId(`late${i}`), sender: 'BRAND', to: '+919812345678', body: 'hi', route: null, template_id: null })));
      const at = smsc.submits.map((x) => x.at);
      expect(at).toHaveLength(20);
      // Counted as the SMSC reads them, with 100 ms to spare for the way there.
      const most = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 900).length));
      expect(most).toBeLessThanOrEqual(5);

      // A slow SMSC: however many sends wait, no more than the window (10) await their answer.
      const [conn] = await s.h.sql<{ id: string }[]>`SELECT id FROM smpp_connections WHERE name = ${name}`;
      await ctx.admin('PATCH', `/smpp-connections/${conn!.id}`, { max_tps: 1000 });
      smsc.respondDelayMs = 300;
      await Promise.all(Array.from({ length: 25 }, (_, i) => provider.send({ id: randomId(`slow${i}`), sender: 'BRAND', to: '+919812345678', body: 'hi', route: null, template_id: null })));
      expect(smsc.submits).toHaveLength(45);
      expect(smsc.maxOutstanding).toBeLessThanOrEqual(SUBMIT_WINDOW);
      expect(smsc.maxOutstanding).toBeGreaterThan(1);
    } finally {
      await provider.close();
      await smsc.close();
    }
  });
});
