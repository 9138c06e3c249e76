import smpp from 'smpp';
import type { Keyring } from '../domain/keyring.js';
import { openSecret } from '../domain/profile-secrets.js';
import { smppAddress, splitForSubmit, type SubmitPart } from '../domain/smpp-submit.js';
import { signalDeliveryReport, type AppliedReport } from '../outbound/delivery-reports.js';
import { PermanentSendError, TransientSendError } from '../outbound/errors.js';
import { refFromId } from '../outbound/sms-parts.js';
import type { SmsProvider } from '../outbound/sms-providers.js';
import { SmppBind, type BindTimings } from './bind.js';
import { SMPP_DEFAULTS } from './binds.js';
import type { MoStoreDeps } from './mo-store.js';
import type { ReceiptDeps } from './receipts.js';

/**
 * A connection's `max_tps` in this process: at most that many submit_sm in any one second (a
 * sliding window of the last `rate` sends, so a burst goes at once up to the limit and never
 * past it, as SMSCs count). Each sending process holds its own: N processes may send N ×
 * max_tps (docs/decisions.md says how to size it).
 */
export class RateLimit {
  private sent: number[] = [];
  private queue: Promise<void> = Promise.resolve();
  constructor(private rate: number) {}

  setRate(rate: number): void {
    this.rate = rate;
  }

  /**
   * Waits until one more send keeps the last second within the rate, and counts it as sent now
   * (the caller sends at once, or gives the slot back); callers are served in order.
   */
  take(): Promise<number> {
    const next = this.queue.then(async () => {
      for (;;) {
        const now = Date.now();
        while (this.sent.length > 0 && this.sent[0]! <= now - 1000) this.sent.shift();
        if (this.sent.length < this.rate) {
          this.sent.push(now);
          return now;
        }
        await new Promise((r) => setTimeout(r, this.sent[0]! + 1000 - now + 1));
      }
    });
    this.queue = next.then(() => {});
    return next;
  }

  /** A slot taken for a send that did not go (the bind was down at that moment). */
  giveBack(slot: number): void {
    const i = this.sent.lastIndexOf(slot);
    if (i >= 0) this.sent.splice(i, 1);
  }
}

/**
 * At most `size` submit_sm awaiting their submit_sm_resp at once (SMSCs allow a window, often
 * 10, and throttle or drop a bind that goes past it); waiters are served in order.
 */
export class Window {
  private used = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }
}

/** submit_sm awaiting their response at once, per sending process. */
export const SUBMIT_WINDOW = 10;

// submit_sm_resp command_status values worth another try later: throttled, queue full, the
// SMSC's temporary application error, system error, and "submit_sm failed" (often transient).
const TRANSIENT_STATUSES = new Set([0x58, 0x14, 0x64, 0x08, 0x45]);

type ConnectionRow = {
  id: string; name: string; host: string; port: number; system_id: string; password: string; system_type: string;
  tls: boolean; max_tps: number;
};

/** What a bind is made of: a change to anything else (max_tps, the gateway, the name) keeps the bind. */
const bindVersion = (r: ConnectionRow) => JSON.stringify([r.host, r.port, r.system_id, r.password, r.system_type, r.tls]);

export type SmppProviderDeps = MoStoreDeps & ReceiptDeps & { secrets: Keyring };

/**
 * `SMS_PROVIDER=smpp` (SPEC §8): submit_sm over a transceiver bind of its own to the connection
 * named by SMPP_PROVIDER_CONNECTION, opened on the first send in whichever process sends (the
 * worker; the API for `POST /v1/{sid}/messages`) and kept. Whatever the SMSC delivers on it is
 * handled as on the connection's ingest bind: MOs stored, delivery receipts recorded and
 * signalled. A long SMS goes as UDH-concatenated parts. With the outbox's `progress` (sendSms
 * gives it), each part's SMSC id is recorded as its submit_sm_resp comes, a later attempt sends
 * only the parts not yet accepted, and the concatenation reference is the one stored for the
 * SMS. SMPP takes no idempotency key: a part whose acceptance was not recorded (its process
 * died) is sent again by the next attempt (at-least-once).
 */
export function smppProvider(deps: SmppProviderDeps, opts: { connection: string; timings?: Partial<BindTimings>; timeoutMs?: number; window?: number }): SmsProvider & { close(): Promise<void> } {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let held: { bind: SmppBind; version: string } | null = null;
  const limit = new RateLimit(10);
  const window = new Window(opts.window ?? SUBMIT_WINDOW);
  let opening: Promise<SmppBind> | null = null;

  async function open(): Promise<SmppBind> {
    const [row] = await deps.sql<ConnectionRow[]>`
      SELECT id, name, host, port, system_id, password, system_type, tls, max_tps
      FROM smpp_connections WHERE name = ${opts.connection} AND enabled`;
    if (!row) {
      await close();
      throw new TransientSendError(`SMPP connection ${JSON.stringify(opts.connection)} (SMPP_PROVIDER_CONNECTION) does not exist or is disabled`);
    }
    limit.setRate(row.max_tps);
    const version = bindVersion(row);
    if (held && held.version === version && held.bind.config.id === row.id) return held.bind;
    // A connection whose bind changed (host, credentials, TLS) is bound afresh, as the ingest binds are.
    await close();
    const bind = new SmppBind(
      { id: row.id, name: `${row.name} (sending)`, host: row.host, port: row.port, systemId: row.system_id, password: openSecret(deps.secrets, row.password),
        systemType: row.system_type, bindType: 'transceiver', tls: row.tls },
      deps, SMPP_DEFAULTS, { ...SMPP_DEFAULTS, ...opts.timings },
    );
    held = { bind, version };
    bind.start();
    return bind;
  }

  async function close(): Promise<void> {
    const h = held;
    held = null;
    await h?.bind.stop();
  }

  /** One open at a time: concurrent sends share the bind. */
  function bindNow(): Promise<SmppBind> {
    opening ??= open().finally(() => (opening = null));
    return opening;
  }

  /**
   * One submit_sm: a place in the window first, then, once bound, a slot under max_tps taken
   * right before the PDU is written. A slot is never spent while the bind is down, so sends
   * held back by a bind (re)connecting go out at the rate, not all at once when it is up.
   */
  async function submit(bind: SmppBind, pdu: smpp.PDU): Promise<smpp.PDU> {
    const deadline = Date.now() + timeoutMs;
    await window.acquire();
    try {
      for (;;) {
        await bind.whenBound(Math.max(0, deadline - Date.now()));
        const slot = await limit.take();
        const answer = bind.sendNow(pdu, timeoutMs);
        if (answer) return await answer;
        limit.giveBack(slot);
      }
    } finally {
      window.release();
    }
  }

  /** Tells runs of the receipts that came before their SMS's part id was recorded (after the fact, as for any receipt). */
  function signalApplied(applied: AppliedReport[]): void {
    if (!deps.temporal) return;
    for (const { report, recorded } of applied) {
      if (!recorded.matched || !recorded.logId || !recorded.final || recorded.duplicate || !recorded.settled) continue;
      void signalDeliveryReport(deps.temporal, deps.log, { logId: recorded.logId, outboxId: recorded.outboxId, messageId: report.messageId, status: report.status });
    }
  }

  return {
    name: 'smpp',
    close,
    async send(req, progress) {
      const bind = await bindNow();
      const connectionId = bind.config.id;
      let parts: SubmitPart[];
      try {
        parts = splitForSubmit(req.body, 0);
        // The same reference on every attempt: a handset that gets a resend's parts joins them alike.
        if (parts.length > 1) parts = splitForSubmit(req.body, progress ? await progress.concatRef() : refFromId(req.id));
      } catch (e) {
        if (e instanceof RangeError) throw new PermanentSendError(`SMPP ${opts.connection}: ${e.message}`);
        throw e;
      }
      const source = smppAddress(req.sender);
      const dest = smppAddress(req.to);
      // Parts an earlier attempt got accepted over this connection are not sent again.
      const resumable = progress && progress.connectionId === connectionId && progress.total === parts.length && progress.accepted.length <= parts.length;
      const ids: string[] = resumable ? [...progress.accepted] : [];
      for (let i = ids.length; i < parts.length; i++) {
        const part = parts[i]!;
        let resp: smpp.PDU;
        try {
          resp = await submit(bind, new smpp.PDU('submit_sm', {
            source_addr: source.addr, source_addr_ton: source.ton, source_addr_npi: source.npi,
            destination_addr: dest.addr, dest_addr_ton: dest.ton, dest_addr_npi: dest.npi,
            esm_class: part.esmClass, data_coding: part.dataCoding, registered_delivery: 1,
            short_message: Buffer.from(part.shortMessage),
          }));
        } catch (e) {
          throw new TransientSendError(`SMPP ${opts.connection}: ${e instanceof Error ? e.message : String(e)}${i > 0 ? ` (after ${i} of ${parts.length} parts)` : ''}`);
        }
        const status = resp.command_status;
        if (status !== 0) {
          const message = `SMPP ${opts.connection}: submit_sm refused with command_status 0x${status.toString(16).padStart(8, '0')}${parts.length > 1 ? ` (part ${i + 1} of ${parts.length})` : ''}`;
          throw TRANSIENT_STATUSES.has(status) ? new TransientSendError(message) : new PermanentSendError(message);
        }
        ids.push(String(resp.message_id ?? '').trim());
        // Recorded before the next part goes: a receipt for this one finds its SMS from now on.
        if (progress) {
          let applied: AppliedReport[];
          try {
            applied = await progress.partsAccepted({ connectionId, total: parts.length, ids: [...ids] });
          } catch (e) {
            throw new TransientSendError(`SMPP ${opts.connection}: recording part ${i + 1} of ${parts.length}: ${e instanceof Error ? e.message : String(e)}`);
          }
          signalApplied(applied);
        }
      }
      const known = ids.filter((id) => id !== '');
      return { status: 'sent', providerMessageId: known[0] ?? null, providerPartIds: ids, response: { provider: 'smpp', connection: opts.connection, parts: parts.length, message_ids: ids } };
    },
  };
}

/** Without the outbox (a provider used alone), the reference is taken from the SMS's id. */
