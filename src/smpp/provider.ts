import { createHash } from 'node:crypto';
import smpp from 'smpp';
import type { Sql } from '../db/sql.js';
import type { Keyring } from '../domain/keyring.js';
import { openSecret } from '../domain/profile-secrets.js';
import { smppAddress, splitForSubmit } from '../domain/smpp-submit.js';
import { PermanentSendError, TransientSendError } from '../outbound/errors.js';
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

  /** Waits until one more send keeps the last second within the rate; callers are served in order. */
  take(): Promise<void> {
    const next = this.queue.then(async () => {
      for (;;) {
        const now = Date.now();
        while (this.sent.length > 0 && this.sent[0]! <= now - 1000) this.sent.shift();
        if (this.sent.length < this.rate) {
          this.sent.push(now);
          return;
        }
        await new Promise((r) => setTimeout(r, this.sent[0]! + 1000 - now + 1));
      }
    });
    this.queue = next;
    return next;
  }
}

// submit_sm_resp command_status values worth another try later: throttled, queue full, the
// SMSC's temporary application error, system error, and "submit_sm failed" (often transient).
const TRANSIENT_STATUSES = new Set([0x58, 0x14, 0x64, 0x08, 0x45]);

type ConnectionRow = {
  id: string; name: string; host: string; port: number; system_id: string; password: string; system_type: string;
  tls: boolean; max_tps: number; updated_at: Date;
};

export type SmppProviderDeps = MoStoreDeps & ReceiptDeps & { secrets: Keyring };

/**
 * `SMS_PROVIDER=smpp` (SPEC §8): submit_sm over a transceiver bind of its own to the connection
 * named by SMPP_PROVIDER_CONNECTION, opened on the first send in whichever process sends (the
 * worker; the API for `POST /v1/{sid}/messages`) and kept. Whatever the SMSC delivers on it is
 * handled as on the connection's ingest bind: MOs stored, delivery receipts recorded and
 * signalled. A long SMS goes as UDH-concatenated parts; each part's message id is kept, the
 * first as the SMS's provider id. SMPP takes no idempotency key: a send whose process died
 * mid-call is sent again by the next attempt (at-least-once).
 */
export function smppProvider(deps: SmppProviderDeps, opts: { connection: string; timings?: Partial<BindTimings>; timeoutMs?: number }): SmsProvider & { close(): Promise<void> } {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let held: { bind: SmppBind; version: string } | null = null;
  const limit = new RateLimit(10);
  let opening: Promise<SmppBind> | null = null;

  async function open(): Promise<SmppBind> {
    const [row] = await deps.sql<ConnectionRow[]>`
      SELECT id, name, host, port, system_id, password, system_type, tls, max_tps, updated_at
      FROM smpp_connections WHERE name = ${opts.connection} AND enabled`;
    if (!row) {
      await close();
      throw new TransientSendError(`SMPP connection ${JSON.stringify(opts.connection)} (SMPP_PROVIDER_CONNECTION) does not exist or is disabled`);
    }
    limit.setRate(row.max_tps);
    const version = row.updated_at.toISOString();
    if (held && held.version === version) return held.bind;
    // A changed connection (any field) is bound afresh, as the ingest binds are.
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

  return {
    name: 'smpp',
    close,
    async send(req) {
      const bind = await bindNow();
      // The same reference on every attempt: a handset that gets a resend's parts joins them alike.
      const ref = createHash('sha256').update(req.id).digest()[0]!;
      const parts = splitForSubmit(req.body, ref);
      const source = smppAddress(req.sender);
      const dest = smppAddress(req.to);
      const ids: string[] = [];
      for (const part of parts) {
        await limit.take();
        let resp: smpp.PDU;
        try {
          resp = await bind.request(new smpp.PDU('submit_sm', {
            source_addr: source.addr, source_addr_ton: source.ton, source_addr_npi: source.npi,
            destination_addr: dest.addr, dest_addr_ton: dest.ton, dest_addr_npi: dest.npi,
            esm_class: part.esmClass, data_coding: part.dataCoding, registered_delivery: 1,
            short_message: Buffer.from(part.shortMessage),
          }), timeoutMs);
        } catch (e) {
          throw new TransientSendError(`SMPP ${opts.connection}: ${e instanceof Error ? e.message : String(e)}${ids.length ? ` (after ${ids.length} of ${parts.length} parts)` : ''}`);
        }
        const status = resp.command_status;
        if (status !== 0) {
          const message = `SMPP ${opts.connection}: submit_sm refused with command_status 0x${status.toString(16).padStart(8, '0')}${ids.length ? ` (part ${ids.length + 1} of ${parts.length})` : ''}`;
          throw TRANSIENT_STATUSES.has(status) ? new TransientSendError(message) : new PermanentSendError(message);
        }
        ids.push(String(resp.message_id ?? '').trim());
      }
      const known = ids.filter((id) => id !== '');
      return { status: 'sent', providerMessageId: known[0] ?? null, providerPartIds: known, response: { provider: 'smpp', connection: opts.connection, parts: parts.length, message_ids: ids } };
    },
  };
}
