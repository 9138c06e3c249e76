import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { customerE164 } from '../domain/phone.js';
import { bindTemplate, tokenize } from '../domain/keywords.js';
import { requireKeyring } from '../domain/keyring.js';
import { isExpired } from '../domain/matching.js';
import { confirmationText, standardChange, standardKeyword } from '../domain/standard-keywords.js';
import { openEnc } from '../domain/profile-secrets.js';
import { formatInZone } from '../domain/time.js';
import type { AutoReply, Forward, Unsubscribe } from '../domain/receive-config.js';
import type { SubscriptionChange } from '../domain/subscriptions.js';
import { buildVariables, fitSms, render, type MessageVariables } from '../domain/variables.js';
import { workflowIdFor, type ActionStatus, type ActionType, type RunPlan, type WebhookRequest } from '../workflows/definitions.js';
import { deliveryIdFor, renderTrigger, requestOf, type DeliveryRow, type ProfileForRender, type TriggerConfig } from './trigger.js';

export type RunDeps = { sql: Sql; config: Config };

type MessageRow = {
  id: string; sid: string | null; source: string; recipient: string; message: string;
  operator: string | null; circle: string | null; received_at: Date; keyword: string | null;
  outcome: string; config_id: string | null; matched_words: number; timezone: string | null;
};

/** What a standard keyword's run reads: the account's texts, and the accounts on the number. */
type StandardRow = {
  opt_out_text: string | null; opt_in_text: string | null; help_text: string | null;
  /** every account on the number, for a standard MO (else null) */
  number_sids: string[] | null;
  /** their countries, in the same order */
  number_countries: string[] | null;
};


type PrepareRow = MessageRow & StandardRow & {
  c_id: string | null; c_keyword: string | null; template_names: string[]; expires_at: Date | null;
  expiry_message: string | null; expiry_sender: string | null; expiry_route: string | null; expiry_template_id: string | null;
  auto_reply: AutoReply | null; reply_at: Date | null; forward: Forward | null;
  subscribe: boolean | null; unsubscribe: Unsubscribe | null; trigger: TriggerConfig | null;
  p_id: string | null; p_url: string; p_http_method: 'POST' | 'GET'; p_body: ProfileForRender['body']; p_content_type: string | null; p_enc: ProfileForRender['enc'];
  stored_delivery: DeliveryRow | null;
};

/** One action the run will take, recorded when the run is prepared. */
type PlannedAction = { type: ActionType; status: ActionStatus; detail: Record<string, unknown> };

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
               to_jsonb(d) AS stored_delivery
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
      let outcome = m.outcome as RunPlan['outcome'];
      if (outcome === 'keyword' || outcome === 'expired') {
        outcome = isExpired(m.expires_at, m.received_at) ? 'expired' : 'keyword';
      }

      const words = tokenize(m.message);
      const vars = buildVariables({
        id: m.id,
        kid: m.c_id,
        source: m.source,
        recipient: m.recipient,
        message: m.message,
        keyword: m.keyword,
        operator: m.operator,
        circle: m.circle,
        timestamp: formatInZone(m.received_at, m.timezone ?? 'UTC'),
        named: bindTemplate(m.template_names, words.slice(m.matched_words)),
      });

      const plan: RunPlan = {
        messageId, sid: m.sid, outcome, configId: m.c_id, trigger: null,
        autoReply: null, expiryMessage: null, forwardSms: null, forwardEmail: null, subscription: null,
      };
      const actions: PlannedAction[] = [];
      const key = (type: ActionType) => `${workflowIdFor(m.id)}-${type}`;
      const reply = m.auto_reply;
      if (outcome === 'expired') {
        if (m.expiry_message) {
          // Its own sender, else the auto reply's, else the number itself; route and DLT
          // template are its own (an auto reply's template is registered for another text).
          plan.expiryMessage = {
            type: 'expiry_message', logId: m.id, sid: m.sid, idempotencyKey: key('expiry_message'),
            sender: m.expiry_sender ?? reply?.sender ?? m.recipient, to: m.source, body: fitSms(render(m.expiry_message, vars, 'text')),
            route: m.expiry_route, templateId: m.expiry_template_id,
          };
          actions.push({ type: 'expiry_message', status: 'pending', detail: {} });
        }
        await recordPlan(sql, messageId, outcome, actions, null);
        return plan;
      }
      if (reply) {
        const at = reply.schedule.type === 'scheduled' && m.reply_at ? m.reply_at.toISOString() : null;
        plan.autoReply = {
          type: 'auto_reply', logId: m.id, sid: m.sid, idempotencyKey: key('auto_reply'),
          sender: reply.sender, to: m.source, body: fitSms(render(reply.message, vars, 'text')),
          route: reply.route ?? null, templateId: reply.template_id ?? null, at,
        };
        actions.push({ type: 'auto_reply', status: at ? 'scheduled' : 'pending', detail: at ? { scheduled_at: at } : {} });
      }
      if (m.forward?.sms) {
        const f = m.forward.sms;
        plan.forwardSms = {
          type: 'forward_sms', logId: m.id, sid: m.sid, idempotencyKey: key('forward_sms'),
          sender: f.sender, to: f.to, body: fitSms(forwardText(m)), route: f.route ?? null, templateId: f.template_id ?? null,
        };
        actions.push({ type: 'forward_sms', status: 'pending', detail: {} });
      }
      if (m.forward?.email) {
        plan.forwardEmail = { logId: m.id, sid: m.sid, idempotencyKey: key('forward_email'), to: m.forward.email.to, ...forwardEmail(m, vars) };
        actions.push({ type: 'forward_email', status: 'pending', detail: {} });
      }
      if (m.subscribe || m.unsubscribe) {
        const type = m.subscribe ? 'subscribe' : 'unsubscribe';
        const change: SubscriptionChange = m.subscribe ? { kind: 'subscribe' }
          : m.unsubscribe!.scope === 'all' ? { kind: 'unsubscribe', scope: 'all' }
          : { kind: 'unsubscribe', scope: 'configured', senders: m.unsubscribe!.senders };
        plan.subscription = { type, logId: m.id, sids: [m.sid], msisdn: m.source, viaNumber: m.recipient, change, receivedAt: m.received_at.toISOString() };
        actions.push({ type, status: 'pending', detail: {} });
      }
      let request: WebhookRequest | null = null;
      if (m.stored_delivery) {
        // Prepared before (this is a retry): the stored request stands, whatever changed since.
        request = requestOf(m.stored_delivery);
        actions.push({ type: 'trigger', status: 'pending', detail: {} });
      } else if (m.trigger) {
        const profile = m.p_id ? { id: m.p_id, url: m.p_url, http_method: m.p_http_method, body: m.p_body, content_type: m.p_content_type,
          enc: m.p_enc && openEnc(requireKeyring(config.keys.secrets, 'SECRETS_KEY'), m.p_enc) } : null;
        const rendered = renderTrigger({ id: m.id, sid: m.sid }, m.trigger, profile, vars);
        if (rendered && 'skip' in rendered) {
          actions.push({ type: 'trigger', status: 'skipped', detail: { reason: rendered.skip } });
        } else if (rendered) {
          request = rendered;
          actions.push({ type: 'trigger', status: 'pending', detail: { delivery_id: rendered.deliveryId, ...(rendered.profileId ? { callback_profile_id: rendered.profileId } : {}) } });
        }
      }
      plan.trigger = await recordPlan(sql, messageId, outcome, actions, request);
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

/**
 * SPEC §3.7: a standard keyword's run. The confirmation (the account's text, else the default)
 * goes from the number the customer texted, whatever the customer opted out of; STOP and its
 * kin opt the customer out of all the account's senders, START and its kin back in. A message
 * that is no one account's (on a shared short code) changes the list of every account on the
 * number, and is confirmed with the default text: no one tenant speaks for the short code.
 */
async function prepareStandard(sql: Sql, m: MessageRow & StandardRow): Promise<RunPlan | null> {
  const standard = standardKeyword(m.message);
  if (!standard) return null;
  const plan: RunPlan = {
    messageId: m.id, sid: m.sid, outcome: 'standard', configId: null, trigger: null,
    autoReply: null, expiryMessage: null, forwardSms: null, forwardEmail: null, subscription: null,
  };
  const texts = m.sid ? { opt_out: m.opt_out_text, opt_in: m.opt_in_text, help: m.help_text } : null;
  plan.autoReply = {
    type: 'auto_reply', logId: m.id, sid: m.sid, idempotencyKey: `${workflowIdFor(m.id)}-auto_reply`,
    sender: m.recipient, to: m.source, body: fitSms(confirmationText(standard.kind, texts)),
    route: null, templateId: null, at: null, ignoreOptOut: true,
  };
  const actions: PlannedAction[] = [{ type: 'auto_reply', status: 'pending', detail: {} }];
  const change = standardChange(standard.kind);
  const sids = m.sid ? [m.sid] : (m.number_sids ?? []);
  if (change && sids.length > 0) {
    const type = change.kind;
    // A customer number kept as the carrier wrote it (national, on a shared short code whose
    // accounts are in different countries) is read in each account's own country, so that
    // account's later sends, which name E.164 numbers, find the opt-out.
    const msisdns = m.sid ? undefined : Object.fromEntries(sids.map((sid, i) => {
      const country = m.number_countries?.[i] ?? null;
      return [sid, customerE164(m.source, country ? country.trim() : null) ?? m.source];
    }));
    plan.subscription = { type, logId: m.id, sids, msisdn: m.source, ...(msisdns ? { msisdns } : {}), viaNumber: m.recipient, change, receivedAt: m.received_at.toISOString() };
    actions.push({ type, status: 'pending', detail: {} });
  }
  await recordPlan(sql, m.id, 'standard', actions, null);
  return plan;
}

/** SPEC §2: the forwarded text carries the customer's number and message. */
function forwardText(m: { source: string; recipient: string; message: string }): string {
  return `SMS from ${m.source} to ${m.recipient}: ${m.message}`;
}

function forwardEmail(m: { source: string; recipient: string; message: string; keyword: string | null }, vars: MessageVariables) {
  const keyword = m.keyword ?? '(default configuration)';
  return {
    subject: `SMS ${m.keyword ?? ''} from ${m.source} to ${m.recipient}`.replace(/\s+/g, ' '),
    text: [
      `From:     ${m.source}`,
      `To:       ${m.recipient}`,
      `Keyword:  ${keyword}`,
      `Received: ${vars.timestamp}`,
      `Message id: ${vars.id}`,
      '',
      m.message,
      '',
    ].join('\n'),
  };
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
