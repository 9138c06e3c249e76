import type { Sql } from '../db/sql.js';
import { consentStates } from '../consent/ledger.js';
import { isOptedOut, type SubscriptionState } from '../domain/subscriptions.js';
import { metrics, secondsSince } from '../runtime/metrics.js';
import type { Mailer } from './mailer.js';
import { sendProgress, type PartsSoFar } from './sms-parts.js';
import type { SmsProvider } from './sms-providers.js';

export type SmsDeps = { sql: Sql; sms: SmsProvider };
export type EmailDeps = { sql: Sql; mailer: Mailer; mailFrom: string };

export type OutboxRow = {
  id: string; sid: string | null; log_id: string | null; channel: 'sms' | 'email'; purpose: string; sender: string;
  recipient: string; subject: string | null; body: string; route: string | null; template_id: string | null;
  provider: string; status: string; attempts: number; provider_message_id: string | null; provider_part_ids: string[] | null; provider_response: unknown;
  provider_connection_id: string | null; provider_parts: number | null; concat_ref: number | null; provider_part_keys: string[] | null;
  last_error: string | null; delivery_status: string | null; delivery_error_code: string | null; delivery_reported_at: Date | null;
  created_at: Date; updated_at: Date;
};

export type SmsSend = {
  /** null only for a standard keyword's confirmation on a shared short code, which is no one account's */
  id: string; sid: string | null; logId: string | null; purpose: 'auto_reply' | 'expiry_message' | 'forward_sms' | 'api';
  sender: string; to: string; body: string; route: string | null; templateId: string | null;
  /** a standard keyword's confirmation (SPEC §3.7): carriers expect it even to a customer who opted out */
  ignoreOptOut?: boolean;
  /** the MO whose own opt-out this SMS confirms: its change alone is not held against it */
  confirms?: string;
};

export type SendOutcome = { outcome: 'sent' | 'already_sent' | 'opted_out'; row: OutboxRow | null };

/** Outbox statuses of a send that is over: a retry under its id sends nothing. */
export const DONE = new Set(['sent', 'stored', 'delivered', 'undelivered']);

/** Another request or activity attempt is sending this key right now. */
export class SendInProgressError extends Error {
  constructor(readonly id: string) {
    super(`outbox ${id} is being sent by another attempt`);
    this.name = 'SendInProgressError';
  }
}

/**
 * Who is sending: the attempt's ordinal (a workflow's local first attempt 0, the regular
 * activity's attempts 1, 2, …; the send API 0) and a hook called while the provider call is
 * in flight (the activity heartbeats there, so Temporal sees a dead attempt in seconds).
 */
export type Claimant = { attempt: number; alive?: () => void };
const API_CLAIMANT: Claimant = { attempt: 0 };

/**
 * How long a claim holds without being renewed; the sender renews it every RENEW_MS while the
 * provider call is in flight. A killed sender's claim so lapses within seconds, and another
 * attempt sends again with the same id, which providers that take an idempotency key use to
 * send it once (SPEC §5; docs/decisions.md, "Outbound SMS and the outbox").
 */
const CLAIM_LEASE_SECONDS = 15;
const RENEW_MS = 5_000;
/** A claim not renewed for RENEW_MS + 2 s is stale: its lease has fewer than this many seconds left. */
const STALE_AFTER_SECONDS = CLAIM_LEASE_SECONDS - RENEW_MS / 1000 - 2;

/**
 * Takes the row for sending in one statement, so two concurrent sends of one key cannot both
 * reach the provider: returns 'claimed', the finished send, or throws SendInProgressError.
 * A claim is taken over when its lease lapsed, or when it was an earlier attempt's and has not
 * been renewed for longer than the renewal interval (with 2 s to spare): Temporal starts
 * attempt n + 1 only once attempt n has failed or timed out, and one that still renews its
 * claim is alive (cut off from Temporal, say) and may yet finish its send.
 */
async function claimSend(sql: Sql, id: string, who: Claimant): Promise<'claimed' | SendOutcome> {
  const [claimed] = await sql`
    UPDATE outbox SET status = 'sending', attempts = attempts + 1, claim_attempt = ${who.attempt},
           claim_until = now() + ${`${CLAIM_LEASE_SECONDS} seconds`}::interval, updated_at = now()
    WHERE id = ${id} AND (status IN ('queued', 'failed') OR (status = 'sending' AND (
      coalesce(claim_until, updated_at + interval '2 minutes') < now()
      OR (claim_attempt < ${who.attempt} AND claim_until < now() + ${`${STALE_AFTER_SECONDS} seconds`}::interval))))
    RETURNING id`;
  if (claimed) return 'claimed';
  const [row] = await sql<OutboxRow[]>`SELECT * FROM outbox WHERE id = ${id}`;
  if (row && DONE.has(row.status)) return { outcome: 'already_sent', row };
  throw new SendInProgressError(id);
}

/** Runs the provider call, renewing the claim (and telling the claimant) while it lasts. */
async function whileClaimed<T>(sql: Sql, id: string, who: Claimant, call: () => Promise<T>): Promise<T> {
  who.alive?.();
  const timer = setInterval(() => {
    who.alive?.();
    sql`UPDATE outbox SET claim_until = now() + ${`${CLAIM_LEASE_SECONDS} seconds`}::interval
        WHERE id = ${id} AND status = 'sending' AND claim_attempt = ${who.attempt}`.catch(() => {});
  }, RENEW_MS);
  try {
    return await call();
  } finally {
    clearInterval(timer);
  }
}

/** SPEC §5.1: what the customer consents to now, their opt-outs still queued for their runs included. */
export function subscriptionStates(sql: Sql, sid: string, msisdn: string, except?: string): Promise<SubscriptionState[]> {
  return consentStates(sql, sid, msisdn, except);
}

/**
 * Sends one SMS at most once per idempotency key (`id`): a retry after the provider accepted
 * it finds the outbox row sent and sends nothing. A customer opted out of the sender gets
 * nothing, except a standard keyword's confirmation. Provider errors are recorded and
 * rethrown for the caller to classify.
 */
export function sendSms(deps: SmsDeps, s: SmsSend, who: Claimant = API_CLAIMANT): Promise<SendOutcome> {
  return counted('sms', deps.sms.name, () => sendSmsOnce(deps, s, who));
}

/**
 * Counts a send in `sms_outbox_sends_total` by what it came to, and its time when it reached
 * the provider (sent or failed; a send found done, opted out or in progress elsewhere asks no one).
 */
async function counted(channel: 'sms' | 'email', provider: string, send: () => Promise<SendOutcome>): Promise<SendOutcome> {
  const started = performance.now();
  let status = 'failed';
  try {
    const result = await send();
    status = result.outcome;
    return result;
  } catch (e) {
    if (e instanceof SendInProgressError) status = 'in_progress';
    throw e;
  } finally {
    metrics.outboxSends.inc({ channel, provider, status });
    if (status === 'sent' || status === 'failed') metrics.outboxSendDuration.observe({ channel, provider }, secondsSince(started));
  }
}

async function sendSmsOnce(deps: SmsDeps, s: SmsSend, who: Claimant): Promise<SendOutcome> {
  const { sql } = deps;
  const [[existing], states] = await Promise.all([
    sql<OutboxRow[]>`SELECT * FROM outbox WHERE id = ${s.id}`,
    s.ignoreOptOut || !s.sid ? [] : subscriptionStates(sql, s.sid, s.to, s.confirms),
  ]);
  if (existing && DONE.has(existing.status)) return { outcome: 'already_sent', row: existing };
  if (isOptedOut(states, s.sender)) return { outcome: 'opted_out', row: null };

  // A new row is stored already claimed; an existing one (an earlier attempt) is claimed.
  const [fresh] = await sql`
    INSERT INTO outbox (id, sid, log_id, channel, purpose, sender, recipient, body, route, template_id, provider, status, attempts,
                        claim_attempt, claim_until)
    VALUES (${s.id}, ${s.sid}, ${s.logId}, 'sms', ${s.purpose}, ${s.sender}, ${s.to}, ${s.body}, ${s.route}, ${s.templateId}, ${deps.sms.name}, 'sending', 1,
            ${who.attempt}, now() + ${`${CLAIM_LEASE_SECONDS} seconds`}::interval)
    ON CONFLICT (id) DO NOTHING RETURNING id`;
  const claim = fresh ? 'claimed' : await claimSend(sql, s.id, who);
  if (claim !== 'claimed') return claim;
  try {
    // What an earlier attempt got through of an SMS sent in parts (SMPP), read once the claim is ours.
    const [before] = fresh ? [null] : await sql<PartsSoFar[]>`
      SELECT provider_part_ids, provider_connection_id, provider_parts, concat_ref FROM outbox WHERE id = ${s.id}`;
    const result = await whileClaimed(sql, s.id, who, () =>
      deps.sms.send({ id: s.id, sender: s.sender, to: s.to, body: s.body, route: s.route, template_id: s.templateId }, sendProgress(sql, s.id, s.to, before ?? null)));
    // A gateway quick enough to report delivery before this UPDATE has said more than 'sent'.
    const [row] = await sql<OutboxRow[]>`
      UPDATE outbox SET status = CASE WHEN status IN ('delivered', 'undelivered') THEN status ELSE 'sent' END,
             provider_message_id = ${result.providerMessageId}, provider_part_ids = ${result.providerPartIds ?? null},
             provider_response = ${sql.json(result.response as never)}, last_error = NULL, updated_at = now()
      WHERE id = ${s.id} RETURNING *`;
    return { outcome: 'sent', row: row! };
  } catch (e) {
    await releaseFailed(sql, s.id, who, e);
    throw e;
  }
}

export type EmailSend = { id: string; sid: string; logId: string | null; to: string[]; subject: string; text: string };

/** Email forwards, once per key; without SMTP_URL the email is kept in the outbox as `stored`. */
export function sendEmail(deps: EmailDeps, m: EmailSend, who: Claimant = API_CLAIMANT): Promise<SendOutcome> {
  return counted('email', deps.mailer.configured ? 'smtp' : 'outbox', () => sendEmailOnce(deps, m, who));
}

async function sendEmailOnce(deps: EmailDeps, m: EmailSend, who: Claimant): Promise<SendOutcome> {
  const { sql } = deps;
  const [existing] = await sql<OutboxRow[]>`SELECT * FROM outbox WHERE id = ${m.id}`;
  if (existing && DONE.has(existing.status)) return { outcome: 'already_sent', row: existing };
  if (!deps.mailer.configured) {
    const [row] = await sql<OutboxRow[]>`
      INSERT INTO outbox (id, sid, log_id, channel, purpose, sender, recipient, subject, body, provider, status)
      VALUES (${m.id}, ${m.sid}, ${m.logId}, 'email', 'forward_email', ${deps.mailFrom}, ${m.to.join(', ')}, ${m.subject}, ${m.text}, 'outbox', 'stored')
      ON CONFLICT (id) DO UPDATE SET status = 'stored', updated_at = now()
      RETURNING *`;
    return { outcome: 'sent', row: row! };
  }
  // A new row is stored already claimed; an existing one (an earlier attempt) is claimed.
  const [fresh] = await sql`
    INSERT INTO outbox (id, sid, log_id, channel, purpose, sender, recipient, subject, body, provider, status, attempts,
                        claim_attempt, claim_until)
    VALUES (${m.id}, ${m.sid}, ${m.logId}, 'email', 'forward_email', ${deps.mailFrom}, ${m.to.join(', ')}, ${m.subject}, ${m.text}, 'smtp', 'sending', 1,
            ${who.attempt}, now() + ${`${CLAIM_LEASE_SECONDS} seconds`}::interval)
    ON CONFLICT (id) DO NOTHING RETURNING id`;
  const claim = fresh ? 'claimed' : await claimSend(sql, m.id, who);
  if (claim !== 'claimed') return claim;
  try {
    // The Message-ID is the idempotency key (outbound/mailer.ts): mail systems can spot a resend.
    const info = await whileClaimed(sql, m.id, who, () => deps.mailer.send({ id: m.id, to: m.to, subject: m.subject, text: m.text }));
    const [row] = await sql<OutboxRow[]>`
      UPDATE outbox SET status = 'sent', provider_message_id = ${info.messageId}, provider_response = ${sql.json({ smtp: info.response })},
             last_error = NULL, updated_at = now()
      WHERE id = ${m.id} RETURNING *`;
    return { outcome: 'sent', row: row! };
  } catch (e) {
    await releaseFailed(sql, m.id, who, e);
    throw e;
  }
}

/** A failed send gives its claim back, unless a later attempt has taken it over meanwhile. */
async function releaseFailed(sql: Sql, id: string, who: Claimant, e: unknown): Promise<void> {
  await sql`
    UPDATE outbox SET status = 'failed', last_error = ${e instanceof Error ? e.message : String(e)}, claim_until = NULL, updated_at = now()
    WHERE id = ${id} AND status = 'sending' AND claim_attempt = ${who.attempt}`;
}
