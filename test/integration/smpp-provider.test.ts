import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import type { PDU, Session } from 'smpp';
import { describe, expect, it } from 'vitest';
import { SmppBinds } from '../../src/smpp/binds.js';
import { smppProvider } from '../../src/smpp/provider.js';
import { stateQuery } from '../../src/workflows/definitions.js';
import { randomId, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';

// SPEC §8: SMPP as an SMS provider: submit_sm over a transceiver bind, long texts in UDH
// parts, delivery receipts back as deliver_sm updating the outbox and ending a run's wait.
const s = temporalSuite();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An SMSC (the `smpp` package's server) that takes submit_sm, numbers them, and can send receipts. */
class Smsc {
  readonly server: smpp.Server;
  session: Session | null = null;
  bindCommands: string[] = [];
  submits: { pdu: PDU; at: number; id: string }[] = [];
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
        this.bindCommands.push(pdu.command);
        session.send(pdu.response({ system_id: 'SMSC' }));
        this.session = session;
      };
      session.on('bind_transceiver', onBind);
      session.on('bind_receiver', onBind);
      session.on('bind_transmitter', onBind);
      session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
      session.on('submit_sm', (pdu: PDU) => {
        // ESME_RINVDSTADR for a number no network has.
        if (pdu.destination_addr === '000') return session.send(pdu.response({ command_status: 0x0b }));
        const id = `smsc-${randomId('m')}-${this.next++}`;
        this.submits.push({ pdu, at: Date.now(), id });
        session.send(pdu.response({ message_id: id }));
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
  receipt(id: string, stat: string, to: string): Promise<number> {
    const session = this.session;
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

  close(): Promise<void> {
    for (const session of this.server.sessions) session.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function within<T>(what: string, p: Promise<T>, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
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
  it('sends a 200-character auto reply as two UDH parts; the receipt turns the outbox row delivered and ends the run\'s wait', async () => {
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
        expect((pdus[0]!.short_message.udh[0] as Buffer)[2]).toBe((pdus[1]!.short_message.udh[0] as Buffer)[2]);
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

        // The final receipt: answered once recorded, the row delivered, the run's wait over.
        expect(await smsc.receipt(ids[0]!, 'DELIVRD', a.number)).toBe(0);
        const [delivered] = await s.h.sql<OutboxRow[]>`SELECT status, delivery_status FROM outbox WHERE id = ${outboxId}`;
        expect(delivered).toMatchObject({ status: 'delivered', delivery_status: 'DELIVRD' });
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
    } finally {
      await provider.close();
      await smsc.close();
    }
  });

  it('records a receipt that comes on the connection\'s ingest bind', async () => {
    const name = randomId('smsc');
    const ctx = s.h.context();
    const smsc = await smscAndConnection(ctx, name);
    const binds = new SmppBinds(
      { sql: s.h.sql, ingestion: ctx.ingestion, secrets: ctx.config.keys.secrets!, log: () => {}, temporal: ctx.client },
      { tickMs: 200, backoffInitialMs: 200, backoffMaxMs: 1000 },
    ).start();
    try {
      const a = await ctx.account();
      const outboxId = randomId('api');
      const smscId = randomId('smsc-id');
      await s.h.sql`
        INSERT INTO outbox (id, sid, channel, purpose, sender, recipient, body, provider, status, provider_message_id, provider_part_ids)
        VALUES (${outboxId}, ${a.sid}, 'sms', 'api', 'BRAND', '+919812345678', 'hi', 'smpp', 'sent', ${smscId}, ${[smscId]})`;
      await eventually('the ingest bind', async () => smsc.session);
      expect(smsc.bindCommands).toEqual(['bind_transceiver']);
      expect(await smsc.receipt(smscId, 'UNDELIV', a.number)).toBe(0);
      const [row] = await s.h.sql<OutboxRow[]>`SELECT status, delivery_status FROM outbox WHERE id = ${outboxId}`;
      expect(row).toMatchObject({ status: 'undelivered', delivery_status: 'UNDELIV' });
      const [report] = await s.h.sql`SELECT status, final FROM delivery_reports WHERE outbox_id = ${outboxId}`;
      expect(report).toMatchObject({ status: 'UNDELIV', final: true });
    } finally {
      await binds.stop();
      await smsc.close();
    }
  });
});
