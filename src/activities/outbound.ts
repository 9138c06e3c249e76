import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { PermanentSendError } from '../outbound/errors.js';
import type { Mailer } from '../outbound/mailer.js';
import { applySubscription, sendEmail, sendSms, type Claimant, type SendOutcome } from '../outbound/send.js';
import type { SmsProvider } from '../outbound/sms-providers.js';
import { errorTypes, type ActionType, type EmailAction, type SmsAction, type SubscriptionAction } from '../workflows/definitions.js';

export type OutboundActivityDeps = { sql: Sql; config: Config; sms: SmsProvider; mailer: Mailer };

export type ActionResult = { status: 'succeeded' | 'skipped'; outboxId: string | null; reason: string | null };

/** Permanent send errors stop the retries; anything else is retried by Temporal's policy. */
function classify(e: unknown): never {
  if (e instanceof PermanentSendError) throw ApplicationFailure.nonRetryable(e.message, errorTypes.sendRejected);
  throw e;
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

export function createOutboundActivities({ sql, config, sms, mailer }: OutboundActivityDeps) {
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

  return {
    /** Auto reply, expiry message or SMS forward: once per key, never to an opted-out customer. */
    async sendSmsAction(a: SmsAction): Promise<ActionResult> {
      let r: SendOutcome;
      try {
        r = await sendSms(deps, {
          id: a.idempotencyKey, sid: a.sid, logId: a.logId, purpose: a.type,
          sender: a.sender, to: a.to, body: a.body, route: a.route, templateId: a.templateId,
        }, claimant());
      } catch (e) {
        await recordAttempt(a.logId, a.type, e instanceof Error ? e.message : String(e));
        classify(e);
      }
      return finish(a.logId, a.type, r);
    },

    async sendEmailAction(a: EmailAction): Promise<ActionResult> {
      let r: SendOutcome;
      try {
        r = await sendEmail(deps, { id: a.idempotencyKey, sid: a.sid, logId: a.logId, to: a.to, subject: a.subject, text: a.text }, claimant());
      } catch (e) {
        await recordAttempt(a.logId, 'forward_email', e instanceof Error ? e.message : String(e));
        classify(e);
      }
      return finish(a.logId, 'forward_email', r);
    },

    async applySubscriptionAction(a: SubscriptionAction): Promise<ActionResult> {
      const writes = await applySubscription(sql, {
        sid: a.sid, msisdn: a.msisdn, viaNumber: a.viaNumber, logId: a.logId, change: a.change,
        // A plan without receivedAt (prepared by an older worker) counts as now.
        at: a.receivedAt ? new Date(a.receivedAt) : new Date(),
      });
      await sql`UPDATE message_actions SET status = 'succeeded', attempts = attempts + 1,
                       detail = detail || ${sql.json({ senders: writes.map((w) => w.sender_id) })}, updated_at = now()
                WHERE log_id = ${a.logId} AND type = ${a.type}`;
      return { status: 'succeeded', outboxId: null, reason: null };
    },

    /** A delivery report names the SMS by outbox id or by the provider's message id. */
    async recordDeliveryReport(r: { logId: string; messageId: string; status: string }): Promise<boolean> {
      // Final reports move the status; interim ones (SENT, ACCEPTED, ENROUTE) are only noted.
      const final = /^(delivered|delivrd|dlvrd)$/i.test(r.status) ? 'delivered'
        : /^(failed|undelivered|undeliv|undelivrd|expired|rejected|rejectd)$/i.test(r.status) ? 'undelivered' : null;
      const rows = await sql<{ id: string; purpose: string }[]>`
        UPDATE outbox SET delivery_status = ${r.status}, status = coalesce(${final}, status), updated_at = now()
        WHERE log_id = ${r.logId} AND (id = ${r.messageId} OR provider_message_id = ${r.messageId})
        RETURNING id, purpose`;
      for (const row of rows) {
        await sql`UPDATE message_actions SET detail = detail || ${sql.json({ delivery_status: r.status })}, updated_at = now()
                  WHERE log_id = ${r.logId} AND type = ${row.purpose}`;
      }
      return rows.length > 0;
    },
  };
}
