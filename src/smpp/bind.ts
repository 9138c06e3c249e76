import { isIP } from 'node:net';
import { rootCertificates as tlsRootCertificates } from 'node:tls';
import smpp from 'smpp';
import type { PDU, Session } from 'smpp';
import { isMo, readDeliverSm, smppNumber, type DeliverSmFields } from '../domain/smpp-text.js';
import { isDeliveryReceipt } from '../domain/smpp-receipts.js';
import { checkAddresses, joinReady, storePart, storeSingle, UnstorableMo, type MoStoreDeps, type MoStoreOptions } from './mo-store.js';
import { recordReceipt, type ReceiptDeps } from './receipts.js';

/**
 * The package decodes short_message and message_payload of every PDU it reads, one PDU at a
 * time: the parts of a concatenated MO would be decoded apart (a UCS-2 surrogate pair or a GSM
 * escape split across two parts is lost) and IA5 (data_coding 1) is read as GSM. For
 * deliver_sm and data_sm this process takes the octets as they came and decodes them itself
 * (domain/smpp-text.ts); the package still encodes what it sends.
 */
function keepRawOctets(): void {
  const raw = new Set(['deliver_sm', 'data_sm']);
  const wrap = (holder: { filter?: smpp.Filter } | undefined) => {
    const original = holder?.filter;
    if (!holder || !original || (original as { rawForMo?: boolean }).rawForMo) return;
    holder.filter = Object.assign({
      encode: original.encode,
      decode(this: PDU, value: unknown, skipUdh?: boolean) {
        return raw.has(this.command) ? value : original.decode.call(this, value, skipUdh);
      },
    }, { rawForMo: true });
  };
  wrap(smpp.commands.deliver_sm?.params?.short_message);
  wrap(smpp.tlvs.message_payload);
}
keepRawOctets();

export type BindConfig = {
  id: string; name: string; host: string; port: number; systemId: string; password: string;
  systemType: string; bindType: 'transceiver' | 'receiver'; tls: boolean;
};

export type BindTimings = {
  /** enquire_link period (SPEC §8); an answer missing for as long again drops the bind */
  enquireLinkMs: number;
  /** reconnect backoff: doubles from the first to the cap */
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** CA certificates (PEM) trusted for TLS binds besides Node's own (NODE_EXTRA_CA_CERTS works too) */
  tlsCa?: string;
};

export type BindState = 'connecting' | 'bound' | 'disconnected' | 'stopped';

export type BindStatus = {
  state: BindState;
  bound_since: string | null;
  last_error: string | null;
  last_error_at: string | null;
  counters: { received: number; stored: number; duplicates: number; parts: number; receipts: number; errors: number; binds: number };
};

// SMPP 3.4 command_status values this side answers with.
const ESME_ROK = 0x00;
/** "temporary application error": the SMSC keeps the MO and delivers it again */
const ESME_RX_T_APPN = 0x64;
const ESME_RINVSRCADR = 0x0a;
const ESME_RINVDSTADR = 0x0b;

/**
 * One bind to an SMSC as an ESME (transceiver or receiver): binds, keeps the link alive with
 * enquire_link, answers each MO once it is stored (an error status when it cannot be: the
 * SMSC delivers it again), and rebinds with exponential backoff whenever the bind drops.
 */
export class SmppBind {
  private session: Session | null = null;
  private stopped = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private linkTimer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<void>>();
  readonly status: BindStatus = {
    state: 'disconnected', bound_since: null, last_error: null, last_error_at: null,
    counters: { received: 0, stored: 0, duplicates: 0, parts: 0, receipts: 0, errors: 0, binds: 0 },
  };

  constructor(
    readonly config: BindConfig,
    private readonly deps: MoStoreDeps & ReceiptDeps,
    private readonly store: MoStoreOptions,
    private readonly timings: BindTimings,
  ) {}

  start(): void {
    this.connect();
  }

  /** Counts a concatenated MO joined and stored, by this bind's own join or by the sweep. */
  countJoined(): void {
    this.status.counters.stored++;
  }

  /**
   * Stops reconnecting, lets the MOs being stored be answered (for `graceMs`), then unbinds
   * (politely, for a moment). An MO that comes meanwhile gets a temporary error: the SMSC
   * delivers it again, to whichever process binds next.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.clearLinkTimer();
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    const session = this.session;
    this.session = null;
    if (session) {
      await new Promise<void>((resolve) => {
        const socket = session.socket;
        // Resolved once, by the socket closing or after 2 s whatever happens: a socket that has
        // closed already (the SMSC went first) never says 'close' again.
        const hard = setTimeout(() => {
          socket.destroy();
          resolve();
        }, 2000);
        const done = () => {
          clearTimeout(hard);
          resolve();
        };
        if (socket.destroyed || !socket.writable) {
          socket.destroy();
          done();
          return;
        }
        socket.once('close', done);
        // unbind_resp, then close our side; an SMSC that does not answer is cut off by the timer.
        if (!session.send(new smpp.PDU('unbind'), () => socket.end())) socket.destroy();
      });
    }
    this.status.state = 'stopped';
    this.status.bound_since = null;
  }

  /** Resolves once bound (at once when bound already); rejects after `timeoutMs` or when stopped. */
  async whenBound(timeoutMs: number): Promise<Session> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.status.state === 'bound' && this.session)) {
      if (this.stopped) throw new Error('bind stopped');
      if (Date.now() > deadline) throw new Error(`not bound within ${timeoutMs} ms${this.status.last_error ? ` (${this.status.last_error})` : ''}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.session;
  }

  /**
   * Sends a PDU on the bound session and resolves with its response; rejects when not bound
   * within `timeoutMs`, or when no response comes within it (the bind may then be half-open).
   */
  async request(pdu: PDU, timeoutMs: number): Promise<PDU> {
    await this.whenBound(timeoutMs);
    const answer = this.sendNow(pdu, timeoutMs);
    if (!answer) throw new Error(`${pdu.command} not sent: the bind dropped`);
    return answer;
  }

  /**
   * Writes a PDU now, when bound at this very moment, and resolves with its response (rejects
   * when none comes within `timeoutMs`); null, and nothing written, when not bound.
   */
  sendNow(pdu: PDU, timeoutMs: number): Promise<PDU> | null {
    const session = this.session;
    if (!(this.status.state === 'bound' && session)) return null;
    return new Promise<PDU>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pdu.command}_resp within ${timeoutMs} ms`)), timeoutMs);
      const sent = session.send(pdu, (resp: PDU) => {
        clearTimeout(timer);
        resolve(resp);
      });
      if (!sent) {
        clearTimeout(timer);
        reject(new Error(`${pdu.command} not sent: the bind is closing`));
      }
    });
  }

  private fail(message: string): void {
    this.status.last_error = message;
    this.status.last_error_at = new Date().toISOString();
  }

  private connect(): void {
    if (this.stopped) return;
    const c = this.config;
    this.status.state = 'connecting';
    // TLS verifies the SMSC's certificate against its host name (SNI too, unless it is an IP).
    const tls = c.tls ? { servername: isIP(c.host) ? undefined : c.host, ...(this.timings.tlsCa ? { ca: [...tlsRootCertificates, this.timings.tlsCa] } : {}) } : {};
    const session = smpp.connect({ host: c.host, port: c.port, tls: c.tls, ...tls });
    this.session = session;
    let closed = false;
    session.on('error', (e: Error) => this.fail(`connection: ${e.message}`));
    session.on('close', () => {
      if (closed) return;
      closed = true;
      if (this.session === session) this.session = null;
      this.clearLinkTimer();
      if (this.status.state === 'bound') this.deps.log(`smpp ${c.name}: bind dropped`);
      this.status.state = this.stopped ? 'stopped' : 'disconnected';
      this.status.bound_since = null;
      this.scheduleReconnect();
    });
    session.on(c.tls ? 'secureConnect' : 'connect', () => this.bind(session));
    session.on('deliver_sm', (pdu: PDU) => this.onMessage(session, pdu));
    session.on('data_sm', (pdu: PDU) => this.onMessage(session, pdu));
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    // A command the package does not know: generic_nack (ESME_RINVCMDID), as SMPP 3.4 asks.
    session.on('unknown', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
  }

  private bind(session: Session): void {
    const c = this.config;
    const command = c.bindType === 'receiver' ? 'bind_receiver' : 'bind_transceiver';
    session.send(new smpp.PDU(command, { system_id: c.systemId, password: c.password, system_type: c.systemType, interface_version: 0x34 }), (resp: PDU) => {
      if (resp.command_status !== ESME_ROK) {
        this.fail(`${command} refused: command_status 0x${resp.command_status.toString(16).padStart(8, '0')}`);
        session.destroy();
        return;
      }
      this.attempt = 0;
      this.status.state = 'bound';
      this.status.bound_since = new Date().toISOString();
      this.status.counters.binds++;
      this.deps.log(`smpp ${c.name}: bound (${c.bindType}) to ${c.host}:${c.port}`);
      this.keepAlive(session);
    });
  }

  /** enquire_link every period; a link that does not answer within a period is dropped and rebound. */
  private keepAlive(session: Session): void {
    this.clearLinkTimer();
    let answered = true;
    this.linkTimer = setInterval(() => {
      if (!answered) {
        this.fail('enquire_link not answered');
        session.destroy();
        return;
      }
      answered = false;
      session.send(new smpp.PDU('enquire_link'), () => {
        answered = true;
      });
    }, this.timings.enquireLinkMs);
  }

  private clearLinkTimer(): void {
    if (this.linkTimer) clearInterval(this.linkTimer);
    this.linkTimer = null;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const { backoffInitialMs, backoffMaxMs } = this.timings;
    const delay = Math.min(backoffMaxMs, backoffInitialMs * 2 ** this.attempt);
    this.attempt++;
    // A little jitter, so binds dropped together do not come back in step.
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay * (0.9 + Math.random() * 0.2));
  }

  private onMessage(session: Session, pdu: PDU): void {
    if (this.stopped) {
      session.send(pdu.response({ command_status: ESME_RX_T_APPN }));
      return;
    }
    let after: Promise<void> | null = null;
    // Counted like an HTTP MO being answered: during a burst over SMPP too, the starter
    // yields so that the SMSC's window is answered first (ingest/starter.ts, IngestLoad).
    const load = this.deps.ingestion.load;
    load.enter();
    const work = this.handle(pdu, (p) => (after = p)).finally(() => load.leave()).then(
      async (status) => {
        session.send(pdu.response({ command_status: status }));
        // A receipt's signal to its run goes after the answer: a slow Temporal never holds the SMSC.
        await after;
      },
      () => {},
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /**
   * The command_status to answer with: ROK only once the MO (or its part, or the delivery
   * receipt) is stored. `then` takes work to finish after the answer (a receipt's signal).
   */
  private async handle(pdu: PDU, then: (p: Promise<void>) => void): Promise<number> {
    const fields = pdu as unknown as DeliverSmFields & { source_addr?: string; source_addr_ton?: number; destination_addr?: string; dest_addr_ton?: number; user_message_reference?: number };
    if (isDeliveryReceipt(fields.esm_class)) {
      this.status.counters.receipts++;
      try {
        const { signal } = await recordReceipt(this.deps, { id: this.config.id, name: this.config.name }, fields);
        if (signal) then(signal);
        return ESME_ROK;
      } catch (e) {
        this.status.counters.errors++;
        this.fail(`recording a delivery receipt: ${e instanceof Error ? e.message : String(e)}`);
        return ESME_RX_T_APPN;
      }
    }
    if (!isMo(fields.esm_class)) {
      // SME acknowledgements and intermediate notifications: nothing to keep.
      this.status.counters.receipts++;
      return ESME_ROK;
    }
    this.status.counters.received++;
    const c = this.config;
    try {
      const source = smppNumber(String(fields.source_addr ?? ''), fields.source_addr_ton);
      const destination = smppNumber(String(fields.destination_addr ?? ''), fields.dest_addr_ton);
      checkAddresses(source, destination);
      const part = readDeliverSm(fields);
      const mo = { connectionId: c.id, source, destination, userMessageReference: fields.user_message_reference ?? null };
      if (!part.concat) {
        const r = await storeSingle(this.deps, this.store, mo, part);
        this.status.counters[r.duplicate ? 'duplicates' : 'stored']++;
        return ESME_ROK;
      }
      const stored = await storePart(this.deps, mo, part);
      this.status.counters[stored.inserted ? 'parts' : 'duplicates']++;
      // The part is safe; joining the message when it is the last one can wait for the sweep
      // if it fails now, so the answer does not depend on it.
      const only = { connection_id: c.id, source, destination, ref: part.concat.ref, total: part.concat.total };
      joinReady(this.deps, this.store, { connectionIds: [c.id], only: { ...only }, onStored: () => this.countJoined() })
        .catch((e) => this.deps.log(`smpp ${c.name}: joining a concatenated MO: ${String(e)}`));
      return ESME_ROK;
    } catch (e) {
      this.status.counters.errors++;
      if (e instanceof UnstorableMo) {
        this.fail(e.message);
        return e.field === 'source' ? ESME_RINVSRCADR : ESME_RINVDSTADR;
      }
      this.fail(`storing an MO: ${e instanceof Error ? e.message : String(e)}`);
      return ESME_RX_T_APPN;
    }
  }
}
