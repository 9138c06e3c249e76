import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { requireKeyring } from '../domain/keyring.js';
import { planConsent, type ConsentEntry } from '../domain/consent.js';
import { openEnc } from '../domain/profile-secrets.js';
import { planRun, planStandard, type PlanConfig, type PlanMessage, type PlannedAction, type ProfileForRender, type StandardMessage } from '../domain/run-plan.js';
import type { ActionStatus, ActionType, RunPlan, WebhookRequest } from '../workflows/definitions.js';
import { deliveryIdFor, requestOf, type DeliveryRow } from './trigger.js';

export type RunDeps = { sql: Sql; config: Config };

/** The message, its account's texts, its configuration (c_id null: deleted) and callback profile, and a stored delivery. */
type PrepareRow = Omit<PlanMessage, 'sid'> & Omit<PlanConfig, 'c_id'> & StandardMessage & {
  config_id: string | null; c_id: string | null; c_keyword: string | null;
  p_id: string | null; p_url: string; p_http_method: 'POST' | 'GET'; p_body: ProfileForRender['body']; p_content_type: string | null; p_enc: ProfileForRender['enc'];
  stored_delivery: DeliveryRow | null;
  /** SPEC §5.1: the MO's consent ledger entries, written when it was stored */
  consent: ConsentEntry[];
};

export function createRunActivities({ sql, config }: RunDeps) {
  return {
    /**
     * Reads the message and its configuration as they are now, re-checks expiry against the
     * message's arrival time (the configuration may have changed since), and records the
     * actions the run will take: one read and one write. Safe to retry: every write is an
     * upsert, and a delivery stored by an earlier try is kept as it was.
     */
    async prepareRun(messageId: string): Promise<RunPlan | null> {
      const [m] = await sql<PrepareRow[]>`
        SELECT m.id, m.sid, m.source, m.recipient, m.message, m.operator, m.circle, m.received_at,
               m.keyword, m.outcome, m.config_id, m.matched_words, a.timezone,
               a.opt_out_text, a.opt_in_text, a.help_text,
               CASE WHEN m.outcome = 'standard' THEN
                 ARRAY(SELECT na.sid FROM number_accounts na WHERE na.number = m.recipient ORDER BY na.sid) END AS number_sids,
               CASE WHEN m.outcome = 'standard' THEN
                 ARRAY(SELECT ac.country FROM number_accounts na JOIN accounts ac ON ac.sid = na.sid
                       WHERE na.number = m.recipient ORDER BY na.sid) END AS number_countries,
               c.id AS c_id, c.keyword AS c_keyword, c.template_names, c.expires_at, c.trigger, c.expiry_message,
               c.expiry_sender, c.expiry_route, c.expiry_template_id, c.auto_reply, c.reply_at, c.forward,
               c.subscribe, c.unsubscribe,
               p.id AS p_id, p.url AS p_url, p.http_method AS p_http_method, p.body AS p_body,
               p.content_type AS p_content_type, p.enc AS p_enc,
               to_jsonb(d) AS stored_delivery,
               (SELECT coalesce(json_agg(json_build_object('sid', l.sid, 'msisdn', l.msisdn, 'direction', l.direction, 'senders', l.senders) ORDER BY l.sid), '[]')
                FROM consent_ledger l WHERE l.log_id = m.id) AS consent
        FROM inbound_messages m
        LEFT JOIN accounts a ON a.sid = m.sid
        LEFT JOIN receive_configs c ON c.id = m.config_id AND c.sid = m.sid
        LEFT JOIN callback_profiles p ON p.id::text = c.trigger->>'callback_profile_id' AND p.sid = m.sid
        LEFT JOIN deliveries d ON d.id = ${deliveryIdFor(messageId)}
        WHERE m.id = ${messageId}`;
      if (m?.outcome === 'standard') return prepareStandard(sql, m);
      if (!m || !m.sid || !m.config_id) return null;
      if (!m.c_id) {
        await sql`UPDATE inbound_messages SET run_status = 'config_deleted' WHERE id = ${messageId}`;
        return null;
      }
      const { plan, actions: planned, request } = planRun({ ...m, sid: m.sid, c_id: m.c_id }, {
        stored: m.stored_delivery ? requestOf(m.stored_delivery) : null,
        profile: () => m.p_id ? { id: m.p_id, url: m.p_url, http_method: m.p_http_method, body: m.p_body, content_type: m.p_content_type,
          enc: m.p_enc && openEnc(requireKeyring(config.keys.secrets, 'SECRETS_KEY'), m.p_enc) } : null,
      });
      // Even for a configuration expired since: the change took effect when the MO was acknowledged.
      const actions = planConsent(plan, planned, m.consent, m);
      plan.trigger = await recordPlan(sql, messageId, plan.outcome, actions, request);
      return plan;
    },

    /** Records an action's final status; an attempt's own error, when there is one, is kept. */
    async recordAction(logId: string, type: ActionType, status: ActionStatus, error: string | null = null, detail: Record<string, unknown> = {}): Promise<void> {
      await sql`
        UPDATE message_actions SET status = ${status}, last_error = coalesce(last_error, ${error}),
               detail = detail || ${sql.json(detail as never)}, updated_at = now()
        WHERE log_id = ${logId} AND type = ${type}`;
    },

    async finishRun(logId: string): Promise<void> {
      await sql`UPDATE inbound_messages SET run_status = 'completed' WHERE id = ${logId}`;
    },
  };
}

/** SPEC §3.7: a standard keyword's run, planned by `planStandard`. */
async function prepareStandard(sql: Sql, m: StandardMessage & { consent: ConsentEntry[] }): Promise<RunPlan | null> {
  const planned = planStandard(m);
  if (!planned) return null;
  const actions = planConsent(planned.plan, planned.actions, m.consent, m);
  await recordPlan(sql, m.id, 'standard', actions, null);
  return planned.plan;
}

/**
 * Records a prepared run in one statement: the outcome, the planned actions (ones recorded
 * by an earlier try stay as they are), and the trigger's delivery. Answers the delivery's
 * request: the one stored by an earlier try when there is one, so every attempt and replay
 * sends the same request; else the one just stored.
 */
async function recordPlan(sql: Sql, logId: string, outcome: string, actions: PlannedAction[], request: WebhookRequest | null): Promise<WebhookRequest | null> {
  const [stored] = await sql<DeliveryRow[]>`
    WITH run AS (
      UPDATE inbound_messages SET outcome = ${outcome}, run_status = 'running' WHERE id = ${logId}
    ), planned AS (
      INSERT INTO message_actions (log_id, type, status, detail)
      SELECT ${logId}, type, status, detail::jsonb
      FROM unnest(${actions.map((a) => a.type)}::text[], ${actions.map((a) => a.status)}::text[], ${actions.map((a) => JSON.stringify(a.detail))}::text[])
           AS a (type, status, detail)
      ON CONFLICT (log_id, type) DO NOTHING
    ), delivery AS (
      INSERT INTO deliveries (id, sid, log_id, profile_id, url, method, request_headers, body, status)
      SELECT ${request?.deliveryId ?? null}, ${request?.sid ?? null}, ${logId}, ${request?.profileId ?? null}::uuid, ${request?.url ?? null},
             ${request?.method ?? null}, ${request ? JSON.stringify(request.headers) : null}::jsonb, ${request?.body ?? null}, 'pending'
      WHERE ${request !== null}
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    )
    SELECT id, log_id, sid, profile_id, url, method, request_headers, body FROM deliveries
    WHERE id = ${request?.deliveryId ?? null} AND NOT EXISTS (SELECT 1 FROM delivery)`;
  if (!request) return null;
  return stored ? requestOf(stored) : request;
}
