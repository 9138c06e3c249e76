import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { deliveryStatus } from '../domain/delivery-reports.js';
import { recordDeliveryReport as recordReport } from '../outbound/delivery-reports.js';
import { PermanentSendError } from '../outbound/errors.js';
import type { Mailer } from '../outbound/mailer.js';
import { applyConsent, recordLateEntry } from '../consent/ledger.js';
import { directionOf, sendersOf } from '../domain/consent.js';
import { sendEmail, sendSms, type Claimant, type SendOutcome } from '../outbound/send.js';
import type { SmsProvider } from '../outbound/sms-providers.js';
import { errorTypes, type ActionType, type EmailAction, type SmsAction, type SubscriptionAction } from '../workflows/definitions.js';
import { accountBusy, AccountCalls, Handovers, retryDelayAfterWaiting } from './outbound-calls.js';

export type OutboundActivityDeps = {
  sql: Sql; config: Config; sms: SmsProvider; mailer: Mailer;
  /** the process's cap on each account's calls in flight, shared with the webhooks */
  calls?: AccountCalls;
  handovers?: Handovers;
};

export type ActionResult = { status: 'succeeded' | 'skipped'; outboxId: string | null; reason: string | null };

/**
 * Permanent send errors stop the retries; anything else is retried by Temporal's policy, its
 * backoff counting only the attempts made (`turnedAway`: those turned away at the account's cap).
 */
function classify(e: unknown, turnedAway: number): never {
  if (e instanceof PermanentSendError) throw ApplicationFailure.nonRetryable(e.message, errorTypes.sendRejected);
  const backoff = retryDelayAfterWaiting(turnedAway);
  if (backoff === undefined) throw e;
  const err = e instanceof Error ? e : new Error(String(e));
  throw ApplicationFailure.create({ message: err.message, type: err.name, nextRetryDelay: backoff, cause: err });
}

/** A regular attempt waiting for the send a local attempt handed over still heartbeats (heartbeatTimeout). */
async function heartbeating<T>(call: Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), 2_000);
  try {
    return await call;
  } finally {
    clearInterval(timer);
  }
}

/**
 * This attempt as an outbox claimant: a local first attempt is 0, the regular activity's
 * attempts 1, 2, …; a regular attempt heartbeats while its provider call is in flight, so a
 * killed worker's attempt times out in seconds (heartbeatTimeout) instead of minutes.
 */
function claimant(): Claimant {
  const ctx = Context.current();
  if (ctx.info.isLocal) return { attempt: 0 };
  ctx.heartbeat();
  return { attempt: ctx.info.attempt, alive: () => ctx.heartbeat() };
}

export function createOutboundActivities({ sql, config, sms, mailer, calls = new AccountCalls(config.outbound.concurrencyPerAccount), handovers = new Handovers() }: OutboundActivityDeps) {
  const deps = { sql, sms, mailer, mailFrom: config.mailFrom };

  async function recordAttempt(logId: string, type: ActionType, error: string | null) {
    await sql`UPDATE message_actions SET attempts = attempts + 1, last_error = ${error}, updated_at = now()
              WHERE log_id = ${logId} AND type = ${type}`;
  }

  /** Records how the send ended on the action; a send made by this attempt counts as one. */
  async function finish(logId: string, type: ActionType, r: SendOutcome): Promise<ActionResult> {
    if (r.outcome === 'opted_out') {
      await sql`UPDATE message_actions SET status = 'skipped', last_error = 'opted_out', updated_at = now()
                WHERE log_id = ${logId} AND type = ${type}`;
      return { status: 'skipped', outboxId: null, reason: 'opted_out' };
    }
    const detail = { outbox_id: r.row!.id, provider_message_id: r.row!.provider_message_id };
    await sql`UPDATE message_actions SET status = 'succeeded', last_error = NULL, detail = detail || ${sql.json(detail)},
                     attempts = attempts + ${r.outcome === 'sent' ? 1 : 0}, updated_at = now()
              WHERE log_id = ${logId} AND type = ${type}`;
    return { status: 'succeeded', outboxId: r.row!.id, reason: null };
  }

  /** One send attempt, recorded on its action. */
  async function sendOnce(a: SmsAction, turnedAway: number): Promise<ActionResult> {
    let r: SendOutcome;
    try {
      r = await sendSms(deps, {
        id: a.idempotencyKey, sid: a.sid, logId: a.logId, purpose: a.type,
        sender: a.sender, to: a.to, body: a.body, route: a.route, templateId: a.templateId, ignoreOptOut: a.ignoreOptOut === true, confirms: a.confirms,
      }, claimant());
    } catch (e) {
      await recordAttempt(a.logId, a.type, e instanceof Error ? e.message : String(e));
      classify(e, turnedAway);
    }
    return finish(a.logId, a.type, r);
  }

  return {
    /**
     * Auto reply, expiry message or SMS forward: once per key, never to an opted-out customer
     * (a standard keyword's confirmation excepted). SPEC §5.2: within the account's cap of
     * calls in flight, and a local first attempt within its budget, as webhooks (activities/webhook.ts).
     */
    async sendSmsAction(a: SmsAction): Promise<ActionResult> {
      const ctx = Context.current();
      if (!ctx.info.isLocal) {
        const adopted = handovers.adopt<ActionResult>(a.idempotencyKey, ctx.cancellationSignal);
        if (adopted) return heartbeating(adopted);
      }
      const slot = calls.enter(a.sid, a.idempotencyKey);
      if (!slot) throw accountBusy(a.sid!, calls.turnAway(a.sid!, a.idempotencyKey));
      const call = sendOnce(a, slot.turnedAway).finally(slot.release);
      return ctx.info.isLocal ? handovers.within(a.idempotencyKey, config.outbound.localBudgetMs, call) : call;
    },

    async sendEmailAction(a: EmailAction): Promise<ActionResult> {
      let r: SendOutcome;
      try {
        r = await sendEmail(deps, { id: a.idempotencyKey, sid: a.sid, logId: a.logId, to: a.to, subject: a.subject, text: a.text }, claimant());
      } catch (e) {
        await recordAttempt(a.logId, 'forward_email', e instanceof Error ? e.message : String(e));
        classify(e, 0);
      }
      return finish(a.logId, 'forward_email', r);
    },

    /**
     * SPEC §5.1: the MO's consent change took effect at its acknowledgement (its ledger entries,
     * written with it); the run applies them to the list, in arrival order, and records what
     * came of them: succeeded when an entry was applied, skipped with the reason when none was.
     * An MO stored before the ledger writes its entries now. Safe to retry: an applied entry
     * is answered as it stands.
     */
    async applySubscriptionAction(a: SubscriptionAction): Promise<ActionResult> {
      const senders = new Set<string>();
      const reasons = new Set<string>();
      let applied = false;
      // A plan recorded before `sids` (one account) still applies.
      const legacy = a as SubscriptionAction & { sid?: string };
      for (const sid of a.sids ?? (legacy.sid ? [legacy.sid] : [])) {
        let entry = await applyConsent(sql, a.logId, sid);
        if (!entry) {
          await recordLateEntry(sql, {
            sid, msisdn: a.msisdns?.[sid] ?? a.msisdn, direction: directionOf(a.change), senders: sendersOf(a.change), logId: a.logId, viaNumber: a.viaNumber,
          });
          entry = await applyConsent(sql, a.logId, sid);
        }
        if (entry?.status === 'applied') applied = true;
        else if (entry?.reason) reasons.add(entry.reason);
        for (const w of entry?.written ?? []) senders.add(w);
      }
      const status = applied ? 'succeeded' : 'skipped';
      const reason = applied ? null : [...reasons].join('; ') || 'no change';
      await sql`UPDATE message_actions SET status = ${status}, attempts = attempts + 1, last_error = ${reason},
                       detail = detail || ${sql.json({ senders: [...senders], ...(reason ? { reason } : {}) })}, updated_at = now()
                WHERE log_id = ${a.logId} AND type = ${a.type}`;
      return { status, outboxId: null, reason };
    },

    /**
     * A `deliveryReport` signal sent to the run directly (SPEC §6, other systems through
     * Temporal): recorded as the API records one, among this run's SMS only. Answers the outbox
     * id of the SMS it names once that SMS is settled (all its parts delivered, or one failed:
     * the run counts it reported), else null: none of the run's SMS, a status that is no status,
     * or one part of a long SMS whose other parts are still out.
     */
    async recordDeliveryReport(r: { logId: string; messageId: string; status: string }): Promise<string | null> {
      const status = deliveryStatus(r.status);
      if (status === null) return null;
      const recorded = await recordReport(sql, { messageId: r.messageId, status, errorCode: null, at: null }, { kind: 'run', logId: r.logId });
      return recorded.matched && recorded.settled ? recorded.outboxId : null;
    },
  };
}
