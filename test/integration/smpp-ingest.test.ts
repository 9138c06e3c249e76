import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import smpp from 'smpp';
import type { PDU, Session } from 'smpp';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { Sql } from '../../src/db/sql.js';
import { createIngestion } from '../../src/ingest/ingest.js';
import { sealStoredSecrets } from '../../src/db/seal-secrets.js';
import { generateKey, makeKeyring } from '../../src/domain/keyring.js';
import { openSecret, sealSecret } from '../../src/domain/profile-secrets.js';
import { createSmsProvider } from '../../src/outbound/sms-providers.js';
import { SmppBinds } from '../../src/smpp/binds.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { freePort } from '../helpers/net.js';
import { PgProxy } from '../helpers/pg-proxy.js';
import { ADMIN_TOKEN, INGEST_TOKEN, SECRETS_KEY, randomId, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';
import { eventually } from '../helpers/wait.js';

const s = temporalSuite();

/** An SMSC: the `smpp` package's server, accepting one system_id / password, sending MOs to the bound ESME. */
class Smsc {
  readonly server: smpp.Server;
  bound: Session | null = null;
  binds = 0;
  bindCommands: string[] = [];
  /** the most ESME binds open at once */
  maxConcurrent = 0;
  private open = new Set<Session>();
  enquireLinks = 0;
  /** a link that stopped answering (a half-open connection) */
  deaf = false;
  private waiters: (() => void)[] = [];
  port = 0;

  constructor(readonly systemId: string, public password: string, tls?: { key: string; cert: string }) {
    this.server = smpp.createServer(tls ?? {}, (session: Session) => {
      session.on('error', () => {});
      const onBind = (pdu: PDU) => {
        if (pdu.system_id !== this.systemId || pdu.password !== this.password) {
          session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
          session.close();
          return;
        }
        session.send(pdu.response({ system_id: 'SMSC' }));
        this.bindCommands.push(pdu.command);
        this.bound = session;
        this.binds++;
        this.open.add(session);
        this.maxConcurrent = Math.max(this.maxConcurrent, this.open.size);
        session.on('close', () => {
          this.open.delete(session);
          if (this.bound === session) this.bound = null;
        });
        for (const w of this.waiters.splice(0)) w();
      };
      session.on('bind_transceiver', onBind);
      session.on('bind_receiver', onBind);
      session.on('enquire_link', (pdu: PDU) => {
        this.enquireLinks++;
        if (!this.deaf) session.send(pdu.response());
      });
      session.on('unbind', (pdu: PDU) => {
        session.send(pdu.response());
        session.close();
      });
    });
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Resolves once the ESME has bound `count` times in all. */
  async waitBound(count = 1, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.binds < count || !this.bound) {
      if (Date.now() > deadline) throw new Error(`ESME bound ${this.binds} time(s), expected ${count}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Sends a deliver_sm to the bound ESME; resolves with its deliver_sm_resp's command_status. */
  deliver(fields: Record<string, unknown>): Promise<number> {
    const session = this.bound;
    if (!session) throw new Error('no bound ESME');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no deliver_sm_resp')), 10_000);
      session.send(new smpp.PDU('deliver_sm', fields), (resp: PDU) => {
        clearTimeout(timer);
        resolve(resp.command_status);
      });
    });
  }

  /** The SMSC drops the bind without a word (a restart, a network cut). */
  drop(): void {
    this.bound?.socket.destroy();
    this.bound = null;
  }

  close(): Promise<void> {
    for (const session of this.server.sessions) session.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

type Setup = { ctx: Ctx; smsc: Smsc; proxy: PgProxy; sql: Sql; binds: SmppBinds; admin: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>; connectionId: string };

/**
 * A test's own SMSC and bind manager, whose PostgreSQL connections go through a proxy that
 * can cut them. The connection is made through the admin API, as an operator would.
 */
async function setup(ctx: Ctx, opts: { reassemblyTimeoutMs?: number; tls?: { key: string; cert: string }; bindType?: string; leaseSeconds?: number; gatewayId?: string } = {}): Promise<Setup> {
  const smsc = await new Smsc('esme', 'secret', opts.tls).start();
  const proxy = await new PgProxy(new URL(TEST_DATABASE_URL)).start();
  const url = new URL(TEST_DATABASE_URL);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  const sql = postgres(url.toString(), { max: 4, onnotice: () => {}, transform: { undefined: null }, connection: { search_path: s.h.db.schema }, connect_timeout: 2 });
  const ingestion = createIngestion({ sql, temporal: ctx.client, config: ctx.config });
  const binds = new SmppBinds(
    { sql, ingestion, secrets: ctx.config.keys.secrets!, log: () => {} },
    { tickMs: 200, backoffInitialMs: 200, backoffMaxMs: 1000, reassemblyTimeoutMs: opts.reassemblyTimeoutMs ?? 60_000, enquireLinkMs: 1000, tlsCa: opts.tls?.cert, leaseSeconds: opts.leaseSeconds ?? 30 },
  ).start();
  const app = createApp({ sql: s.h.sql, temporal: ctx.client, config: ctx.config, tokens: { admin: ADMIN_TOKEN, ingest: INGEST_TOKEN }, sms: createSmsProvider(ctx.config), ingestion: ctx.ingestion, smpp: binds });
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(`/v1/admin/smpp-connections${path}`, {
      method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const created = await admin('POST', '', { name: randomId('smsc'), host: '127.0.0.1', port: smsc.port, system_id: 'esme', password: 'secret', bind_type: opts.bindType ?? 'transceiver', tls: !!opts.tls, ...(opts.gatewayId ? { gateway_id: opts.gatewayId } : {}) });
  if (created.status !== 201) throw new Error(`smpp connection: ${JSON.stringify(created.body)}`);
  const done = { ctx, smsc, proxy, sql, binds, admin, connectionId: created.body.id as string };
  cleanups.push(async () => {
    await admin('DELETE', `/${done.connectionId}`);
    await binds.stop();
    await ingestion.starter.drain();
    await smsc.close();
    await sql.end({ timeout: 1 });
    await proxy.close();
  });
  await smsc.waitBound();
  return done;
}

/**
 * The bind's state once its `stored` counter reaches `stored` (read for at most 10 s). A join
 * counts its message after it has cleaned its parts up, which may be after the run's webhook
 * came in.
 */
function settled(t: Setup, stored: number): Promise<{ state: string; counters: Record<string, number> }> {
  return eventually(`the bind's stored counter at ${stored}`, async () => {
    const state = (await t.admin('GET', `/${t.connectionId}`)).body.state;
    return state.counters?.stored === stored ? state : null;
  }, 10_000);
}

const cleanups: (() => Promise<void>)[] = [];
async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0)) await c();
}

/** GSM 03.38 octets for plain ASCII letters, digits and spaces (the same codes), € as ESC e. */
const gsm = (text: string) => Buffer.from([...text].flatMap((ch) => (ch === '€' ? [0x1b, 0x65] : [ch.charCodeAt(0)])));
const ucs2 = (text: string) => Buffer.from(text, 'utf16le').swap16();
const udh8 = (ref: number, total: number, seq: number) => Buffer.from([0x05, 0x00, 0x03, ref, total, seq]);

/** The deliver_sm fields of an MO from a handset to the account's number (TON 1: international, without "+"). */
const mo = (to: string, fields: Record<string, unknown>) => ({
  source_addr_ton: 1, source_addr: '919812345678', dest_addr_ton: 1, destination_addr: to.replace(/^\+/, ''), data_coding: 0, ...fields,
});

async function inbound(ctx: Ctx, recipient: string) {
  return ctx.h.sql<{ id: string; message: string; ingest_notes: string[] }[]>`
    SELECT id, message, ingest_notes FROM inbound_messages WHERE recipient = ${recipient} ORDER BY seq`;
}

describe('SMPP ingest (SPEC §8)', () => {
  it('a single MO and 3-part concatenated MOs (GSM with UDH, UCS-2 with emoji in SAR TLVs) reach the webhook joined', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'JOIN', trigger: { url: s.hooks.url('/smpp-joined') } });
    const t = await setup(ctx);
    try {
      await ctx.withWorker(async () => {
        expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('JOIN single') }))).toBe(0);

        // "JOIN long € text split in three": the € escape is split across parts 1 and 2.
        const g = gsm('JOIN long € text split in three');
        const cut1 = g.indexOf(0x1b) + 1;
        const gsmParts = [g.subarray(0, cut1), g.subarray(cut1, 20), g.subarray(20)];
        for (const seq of [2, 1, 3]) {
          expect(await t.smsc.deliver(mo(a.number, { esm_class: 0x40, short_message: Buffer.concat([udh8(77, 3, seq), gsmParts[seq - 1]!]) }))).toBe(0);
        }

        // UCS-2 with an emoji whose surrogate pair is split across parts 2 and 3.
        const u = ucs2('JOIN नमस्ते 😀 दोस्त');
        const emoji = u.indexOf(Buffer.from([0xd8, 0x3d]));
        const ucsParts = [u.subarray(0, 8), u.subarray(8, emoji + 2), u.subarray(emoji + 2)];
        for (const seq of [1, 2, 3]) {
          const fields = { data_coding: 8, short_message: ucsParts[seq - 1], sar_msg_ref_num: 4242, sar_total_segments: 3, sar_segment_seqnum: seq };
          expect(await t.smsc.deliver(mo(a.number, fields))).toBe(0);
        }

        const reqs = await s.hooks.waitFor('/smpp-joined', 3);
        const bodies = reqs.map((r) => JSON.parse(r.body));
        expect(bodies.map((b) => b.message).sort()).toEqual(['JOIN long € text split in three', 'JOIN नमस्ते 😀 दोस्त', 'JOIN single'].sort());
        expect(bodies.every((b) => b.source === '+919812345678' && b.recipient === a.number)).toBe(true);
      });

      const rows = await inbound(ctx, a.number);
      expect(rows).toHaveLength(3);
      expect(rows.every((r) => r.id.startsWith(`smpp:${t.connectionId}:`) && r.ingest_notes.length === 0)).toBe(true);
      // The join counts its message once it has cleaned its parts up, which may be after the
      // run's webhook came in: read the counters until they settle (bounded).
      expect(await settled(t, 3)).toMatchObject({ state: 'bound', counters: { received: 7, stored: 3, parts: 6, errors: 0 } });
    } finally {
      await cleanup();
    }
  });

  it('stores the parts that came once the reassembly timeout passes, naming the missing one', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'PART', trigger: { url: s.hooks.url('/smpp-partial') } });
    const t = await setup(ctx, { reassemblyTimeoutMs: 1500 });
    try {
      await ctx.withWorker(async () => {
        const started = Date.now();
        expect(await t.smsc.deliver(mo(a.number, { esm_class: 0x40, short_message: Buffer.concat([udh8(9, 3, 1), gsm('PART one ')]) }))).toBe(0);
        expect(await t.smsc.deliver(mo(a.number, { esm_class: 0x40, short_message: Buffer.concat([udh8(9, 3, 3), gsm('three')]) }))).toBe(0);
        const [req] = await s.hooks.waitFor('/smpp-partial');
        expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
        expect(JSON.parse(req!.body).message).toBe('PART one three');
      });
      const [row] = await inbound(ctx, a.number);
      expect(row!.ingest_notes).toEqual(['concatenated MO of 3 parts stored without part(s) 2, which never came']);
      // Joined by the sweep, not by a part's own join: it counts on the bind all the same.
      expect(await settled(t, 1)).toMatchObject({ counters: { received: 2, parts: 2, stored: 1, errors: 0 } });
    } finally {
      await cleanup();
    }
  });

  it('answers an error while PostgreSQL is unavailable, and stores the SMSC\'s redelivery once it is back', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'DOWN', trigger: { url: s.hooks.url('/smpp-outage') } });
    const t = await setup(ctx);
    try {
      await ctx.withWorker(async () => {
        // Warm the routing cache first, so the failure is the store's, not the lookup's.
        expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('DOWN warm') }))).toBe(0);
        t.proxy.stop();
        const pdu = mo(a.number, { short_message: gsm('DOWN during the outage') });
        expect(await t.smsc.deliver(pdu)).toBe(0x64); // ESME_RX_T_APPN: the SMSC keeps it and retries
        t.proxy.resume();
        // The SMSC redelivers (a new deliver_sm, a new sequence number) until it gets ESME_ROK.
        let status = -1;
        for (let i = 0; i < 50 && status !== 0; i++) {
          status = await t.smsc.deliver(pdu);
          if (status !== 0) await new Promise((r) => setTimeout(r, 200));
        }
        expect(status).toBe(0);
        const reqs = await s.hooks.waitFor('/smpp-outage', 2);
        expect(reqs.map((r) => JSON.parse(r.body).message).sort()).toEqual(['DOWN during the outage', 'DOWN warm']);
      });
      expect((await inbound(ctx, a.number)).map((r) => r.message)).toEqual(['DOWN warm', 'DOWN during the outage']);
      const got = await t.admin('GET', `/${t.connectionId}`);
      expect(got.body.state.counters.errors).toBeGreaterThanOrEqual(1);
      expect(got.body.state.last_error).toMatch(/storing an MO/);
    } finally {
      await cleanup();
    }
  });

  it('stores a deliver_sm (and a part) delivered again after an ESME_ROK once', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'AGAIN', trigger: { url: s.hooks.url('/smpp-again') } });
    const t = await setup(ctx);
    try {
      await ctx.withWorker(async () => {
        const single = mo(a.number, { short_message: gsm('AGAIN single') });
        expect(await t.smsc.deliver(single)).toBe(0);
        expect(await t.smsc.deliver(single)).toBe(0);
        const parts = [1, 2].map((seq) => mo(a.number, { esm_class: 0x40, short_message: Buffer.concat([udh8(200, 2, seq), gsm(seq === 1 ? 'AGAIN long ' : 'message')]) }));
        expect(await t.smsc.deliver(parts[0]!)).toBe(0);
        expect(await t.smsc.deliver(parts[1]!)).toBe(0);
        await s.hooks.waitFor('/smpp-again', 2);
        expect(await t.smsc.deliver(parts[1]!)).toBe(0);
        expect(await t.smsc.deliver(parts[0]!)).toBe(0);
        // A later, different message from the same handset is a new one.
        expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('AGAIN later') }))).toBe(0);
        await s.hooks.waitFor('/smpp-again', 3);
        // The first text again, after another one: the customer sent it again (STOP, START,
        // STOP), not the SMSC.
        expect(await t.smsc.deliver(single)).toBe(0);
        await s.hooks.waitFor('/smpp-again', 4);
      });
      expect((await inbound(ctx, a.number)).map((r) => r.message)).toEqual(['AGAIN single', 'AGAIN long message', 'AGAIN later', 'AGAIN single']);
      expect(s.hooks.to('/smpp-again')).toHaveLength(4);
      const got = await t.admin('GET', `/${t.connectionId}`);
      expect(got.body.state.counters).toMatchObject({ received: 8, duplicates: 3, errors: 0 });
    } finally {
      await cleanup();
    }
  });

  it('counts a STOP from its deliver_sm_resp: the send API refuses at once, the ledger says smpp (SPEC §5.1)', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA'] });
    const t = await setup(ctx);
    try {
      // No worker: the STOP's run has not run.
      expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('STOP') }))).toBe(0);
      const send = await a.call('POST', '/messages', { to: '+919812345678', sender: 'ALPHA', body: 'x' });
      expect(send.status).toBe(403);
      const history = await a.call('GET', `/subscriptions/${encodeURIComponent('+919812345678')}/history`);
      expect(history.body.data).toEqual([expect.objectContaining({ direction: 'opt_out', keyword: 'STOP', channel: 'smpp', cause: 'mo', status: 'pending' })]);
    } finally {
      await cleanup();
    }
  });

  it('rebinds after the SMSC drops the bind and takes the next MO', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'BACK', trigger: { url: s.hooks.url('/smpp-rebind') } });
    const t = await setup(ctx);
    try {
      await ctx.withWorker(async () => {
        t.smsc.drop();
        await t.smsc.waitBound(2);
        expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('BACK again') }))).toBe(0);
        const [req] = await s.hooks.waitFor('/smpp-rebind');
        expect(JSON.parse(req!.body).message).toBe('BACK again');
      });
      const got = await t.admin('GET', `/${t.connectionId}`);
      expect(got.body.state).toMatchObject({ state: 'bound', counters: { binds: 2, stored: 1 } });
    } finally {
      await cleanup();
    }
  });

  it('manages connections through the admin API: the password is sealed and never returned; disabling unbinds', async () => {
    const ctx = s.h.context();
    const t = await setup(ctx);
    try {
      const got = await t.admin('GET', `/${t.connectionId}`);
      expect(got.status).toBe(200);
      expect(got.body).not.toHaveProperty('password');
      expect(JSON.stringify(got.body)).not.toContain('secret');
      expect(got.body).toMatchObject({ host: '127.0.0.1', port: t.smsc.port, system_id: 'esme', system_type: '', bind_type: 'transceiver', tls: false, enabled: true });
      const [row] = await s.h.sql<{ password: string }[]>`SELECT password FROM smpp_connections WHERE id = ${t.connectionId}`;
      expect(row!.password).toMatch(/^enc:v1:/);
      const doc = await ctx.request('GET', '/openapi.json');
      expect(doc.body.paths['/v1/admin/smpp-connections'].post.requestBody.content['application/json'].schema.properties.password.description).toMatch(/write-only/);
      const list = await t.admin('GET', '');
      expect(list.body.smpp_connections.some((c: any) => c.id === t.connectionId && !('password' in c))).toBe(true);

      expect((await t.admin('POST', '', { name: 'x', host: 'smsc.example', port: 70000, system_id: 'a', password: 'b' })).body).toMatchObject({ error: { field: 'port' } });
      expect((await t.admin('POST', '', { name: 'x', host: 'smsc.example', port: 2775, system_id: 'a', password: 'b', secret: 1 })).status).toBe(400);
      expect((await t.admin('GET', '/not-a-uuid')).status).toBe(404);

      const off = await t.admin('PATCH', `/${t.connectionId}`, { enabled: false });
      expect(off.status).toBe(200);
      const deadline = Date.now() + 5000;
      while (t.smsc.bound && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(t.smsc.bound).toBeNull();
      expect((await t.admin('GET', `/${t.connectionId}`)).body.state).toMatchObject({ state: 'disabled' });
      // A new password (write-only) and enabled again: it binds with the new one.
      t.smsc.password = 'newpass';
      expect((await t.admin('PATCH', `/${t.connectionId}`, { enabled: true, password: 'newpass' })).status).toBe(200);
      await t.smsc.waitBound(2);
      // A refused bind is shown, and retried with backoff.
      t.smsc.password = 'other';
      expect((await t.admin('PATCH', `/${t.connectionId}`, { system_type: 'VMA' })).body.system_type).toBe('VMA');
      let state: any = null;
      for (let i = 0; i < 100 && !/refused/.test(state?.last_error ?? ''); i++) {
        await new Promise((r) => setTimeout(r, 50));
        state = (await t.admin('GET', `/${t.connectionId}`)).body.state;
      }
      expect(state.last_error).toBe('bind_transceiver refused: command_status 0x0000000d');
      expect(state.state).not.toBe('bound');
      expect((await t.admin('DELETE', `/${t.connectionId}`)).status).toBe(204);
      expect((await t.admin('GET', `/${t.connectionId}`)).status).toBe(404);

      // A password sealed with a key since rotated is re-sealed with the current one at start.
      const oldKey = generateKey();
      const [old] = await s.h.sql<{ id: string }[]>`
        INSERT INTO smpp_connections (name, host, port, system_id, password, bind_type, enabled)
        VALUES (${randomId('old')}, 'smsc.example', 2775, 'esme', ${sealSecret(makeKeyring(oldKey, undefined, 'OLD'), 'oldpw')}, 'receiver', false)
        RETURNING id`;
      const ring = makeKeyring(SECRETS_KEY, oldKey, 'SECRETS_KEY');
      expect(await sealStoredSecrets(s.h.sql, ring)).toBeGreaterThanOrEqual(1);
      const [resealed] = await s.h.sql<{ password: string }[]>`SELECT password FROM smpp_connections WHERE id = ${old!.id}`;
      expect(resealed!.password.startsWith(`enc:v1:${ring.current.id}:`)).toBe(true);
      expect(openSecret(ring, resealed!.password)).toBe('oldpw');
      await s.h.sql`DELETE FROM smpp_connections WHERE id = ${old!.id}`;
    } finally {
      await cleanup();
    }
  });

  it('binds each connection from one process only; another takes over when the holder stops', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'TWO', trigger: { url: s.hooks.url('/smpp-two') } });
    const t = await setup(ctx);
    const ingestion = createIngestion({ sql: s.h.sql, temporal: ctx.client, config: ctx.config });
    const other = new SmppBinds({ sql: s.h.sql, ingestion, secrets: ctx.config.keys.secrets!, log: () => {} }, { tickMs: 200, backoffInitialMs: 200 }).start();
    try {
      await new Promise((r) => setTimeout(r, 1000)); // five ticks of both
      expect(t.smsc.binds).toBe(1);
      expect(t.smsc.server.sessions).toHaveLength(1);
      expect(other.local(t.connectionId)).toBeNull();
      expect(t.binds.local(t.connectionId)?.state).toBe('bound');

      await t.binds.stop(); // gives the lease back
      await t.smsc.waitBound(2);
      for (let i = 0; i < 50 && other.local(t.connectionId)?.state !== 'bound'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(other.local(t.connectionId)?.state).toBe('bound');
      await ctx.withWorker(async () => {
        expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('TWO taken over') }))).toBe(0);
        await s.hooks.waitFor('/smpp-two');
      });
    } finally {
      await other.stop();
      await ingestion.starter.drain();
      await cleanup();
    }
  });

  it('acknowledges a delivery receipt naming no SMS of ours (one it cannot record gets a temporary error), and refuses an unusable source for good', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const t = await setup(ctx);
    try {
      const receipt = mo(a.number, { esm_class: 0x04, short_message: gsm('id:abc sub:001 dlvrd:001 stat:DELIVRD err:000 text:') });
      expect(await t.smsc.deliver(receipt)).toBe(0);
      expect(await t.smsc.deliver(mo(a.number, { source_addr: 'x', source_addr_ton: 5, short_message: gsm('hi') }))).toBe(0x0a); // ESME_RINVSRCADR
      expect(await inbound(ctx, a.number)).toEqual([]);
      const got = await t.admin('GET', `/${t.connectionId}`);
      expect(got.body.state.counters).toMatchObject({ receipts: 1, received: 1, stored: 0, errors: 1 });
      // Receipts are recorded before they are answered (smpp-provider.test.ts): not at all, no OK.
      t.proxy.stop();
      expect(await t.smsc.deliver(receipt)).toBe(0x64);
      t.proxy.resume();
    } finally {
      await cleanup();
    }
  });

  it('judges MOs by the connection\'s gateway: a number it is not limited to is refused for good; a revoked gateway\'s bind is let go', async () => {
    const ctx = s.h.context();
    const [a, b] = [await ctx.account(), await ctx.account()];
    const g = await ctx.admin('POST', '/gateways', { name: randomId('gw'), numbers: [a.number] });
    expect(g.status).toBe(201);
    const t = await setup(ctx, { gatewayId: g.body.id });
    try {
      expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('hello a') }))).toBe(0);
      // ESME_RINVDSTADR, single or part: the SMSC must not deliver it again and again.
      expect(await t.smsc.deliver(mo(b.number, { short_message: gsm('hello b') }))).toBe(0x0b);
      expect(await t.smsc.deliver(mo(b.number, { esm_class: 0x40, short_message: Buffer.concat([udh8(5, 2, 1), gsm('hello ')]) }))).toBe(0x0b);
      expect(await inbound(ctx, b.number)).toEqual([]);
      expect(await s.h.sql`SELECT 1 FROM smpp_parts WHERE destination = ${b.number}`).toHaveLength(0);
      const stored = await s.h.sql`SELECT gateway_id FROM inbound_messages WHERE recipient = ${a.number}`;
      expect(stored).toEqual([{ gateway_id: g.body.id }]);

      // Revoked: the bind is let go at the next round, and not taken again.
      expect((await ctx.admin('DELETE', `/gateways/${g.body.id}`)).status).toBe(204);
      await t.binds.refresh();
      const binds = t.smsc.binds;
      for (let i = 0; i < 50 && t.smsc.bound; i++) await new Promise((r) => setTimeout(r, 100));
      expect(t.smsc.bound).toBeNull();
      await t.binds.refresh();
      await t.binds.refresh();
      expect(t.smsc.binds).toBe(binds);
      expect((await t.admin('GET', `/${t.connectionId}`)).body.state).toMatchObject({ state: 'unbound' });
    } finally {
      await cleanup();
    }
  });

  it('keeps the link alive with enquire_link, and rebinds when the SMSC stops answering it', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'ALIVE', trigger: { url: s.hooks.url('/smpp-alive') } });
    const t = await setup(ctx);
    try {
      // Every second once bound.
      await eventually('an enquire_link', async () => t.smsc.enquireLinks > 0, 5_000);
      expect(t.smsc.enquireLinks).toBeGreaterThanOrEqual(1);
      expect(t.smsc.binds).toBe(1);
      t.smsc.deaf = true; // a half-open link: nothing comes back
      await t.smsc.waitBound(2, 10_000);
      t.smsc.deaf = false;
      const got = await t.admin('GET', `/${t.connectionId}`);
      expect(got.body.state.last_error).toBe('enquire_link not answered');
      await ctx.withWorker(async () => {
        expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('ALIVE again') }))).toBe(0);
        await s.hooks.waitFor('/smpp-alive');
      });
    } finally {
      await cleanup();
    }
  });

  it('binds as a receiver over TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smsc-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'SAFE', trigger: { url: s.hooks.url('/smpp-tls') } });
    const t = await setup(ctx, { tls, bindType: 'receiver' });
    try {
      expect(t.smsc.bindCommands).toEqual(['bind_receiver']);
      await ctx.withWorker(async () => {
        expect(await t.smsc.deliver(mo(a.number, { short_message: gsm('SAFE and sound') }))).toBe(0);
        const [req] = await s.hooks.waitFor('/smpp-tls');
        expect(JSON.parse(req!.body).message).toBe('SAFE and sound');
      });
    } finally {
      await cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a holder cut off from PostgreSQL unbinds before its lease runs out; another process then takes the bind', async () => {
    const ctx = s.h.context();
    const t = await setup(ctx, { leaseSeconds: 3 });
    const ingestion = createIngestion({ sql: s.h.sql, temporal: ctx.client, config: ctx.config });
    const other = new SmppBinds({ sql: s.h.sql, ingestion, secrets: ctx.config.keys.secrets!, log: () => {} }, { tickMs: 200, backoffInitialMs: 200, leaseSeconds: 3 }).start();
    try {
      await new Promise((r) => setTimeout(r, 600));
      expect(other.local(t.connectionId)).toBeNull();
      t.proxy.stop();
      await t.smsc.waitBound(2, 10_000);
      for (let i = 0; i < 50 && other.local(t.connectionId)?.state !== 'bound'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(other.local(t.connectionId)?.state).toBe('bound');
      expect(t.binds.local(t.connectionId)).toBeNull();
      expect(t.smsc.maxConcurrent).toBe(1);
    } finally {
      await other.stop();
      await ingestion.starter.drain();
      t.proxy.resume();
      await cleanup();
    }
  });

  it('shows why an SMSC cannot be reached, and binds once it can, retrying with backoff', async () => {
    const ctx = s.h.context();
    const t = await setup(ctx);
    try {
      const port = await freePort();
      expect((await t.admin('PATCH', `/${t.connectionId}`, { port })).status).toBe(200);
      let state: any = null;
      for (let i = 0; i < 100 && !/ECONNREFUSED/.test(state?.last_error ?? ''); i++) {
        await new Promise((r) => setTimeout(r, 50));
        state = (await t.admin('GET', `/${t.connectionId}`)).body.state;
      }
      expect(state.last_error).toMatch(/^connection: .*ECONNREFUSED/);
      expect(['connecting', 'disconnected']).toContain(state.state);
      const late = await new Smsc('esme', 'secret').start(port);
      try {
        await late.waitBound(1, 10_000);
        for (let i = 0; i < 50 && state.state !== 'bound'; i++) {
          await new Promise((r) => setTimeout(r, 50));
          state = (await t.admin('GET', `/${t.connectionId}`)).body.state;
        }
        expect(state).toMatchObject({ state: 'bound' });
        expect(state.bound_since).toEqual(expect.any(String));
      } finally {
        await cleanup();
        await late.close();
      }
    } finally {
      await cleanup();
    }
  });
});
