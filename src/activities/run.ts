import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { bindTemplate, tokenize } from '../domain/keywords.js';
import { isExpired } from '../domain/matching.js';
import { formatInZone } from '../domain/time.js';
import type { AutoReply, Forward, Unsubscribe } from '../domain/receive-config.js';
import type { SubscriptionChange } from '../domain/subscriptions.js';
import { buildVariables, render, type MessageVariables } from '../domain/variables.js';
import { workflowIdFor, type ActionStatus, type ActionType, type RunPlan } from '../workflows/definitions.js';
import { prepareTrigger } from './trigger.js';

export type RunDeps = { sql: Sql; config: Config };

type MessageRow = {
  id: string; sid: string | null; source: string; recipient: string; message: string;
  operator: string | null; circle: string | null; received_at: Date; keyword: string | null;
  outcome: string; config_id: string | null; matched_words: number; timezone: string | null;
};

type ConfigRow = {
  id: string; sid: string; keyword: string | null; template_names: string[]; expires_at: Date | null;
  expiry_message: string | null; expiry_sender: string | null; expiry_route: string | null; expiry_template_id: string | null;
  auto_reply: AutoReply | null; reply_at: Date | null; forward: Forward | null;
  subscribe: boolean; unsubscribe: Unsubscribe | null;
  trigger: { url?: string | null; method?: 'POST' | 'GET' | null; body?: string | null; content_type?: string | null; callback_profile_id?: string | null } | null;
};

export function createRunActivities({ sql }: RunDeps) {
  return {
    /**
     * Reads the message and its configuration as they are now, re-checks expiry against the
     * message's arrival time (the configuration may have changed since), and records the
     * actions the run will take. Safe to retry: every write is an upsert.
     */
    async prepareRun(messageId: string): Promise<RunPlan | null> {
      const [m] = await sql<MessageRow[]>`
        SELECT m.id, m.sid, m.source, m.recipient, m.message, m.operator, m.circle, m.received_at,
               m.keyword, m.outcome, m.config_id, m.matched_words, a.timezone
        FROM inbound_messages m LEFT JOIN accounts a ON a.sid = m.sid
        WHERE m.id = ${messageId}`;
      if (!m || !m.sid || !m.config_id) return null;
      const [c] = await sql<ConfigRow[]>`
        SELECT id, sid, keyword, template_names, expires_at, trigger, expiry_message, expiry_sender, expiry_route,
               expiry_template_id, auto_reply, reply_at,
               forward, subscribe, unsubscribe
        FROM receive_configs WHERE id = ${m.config_id} AND sid = ${m.sid}`;
      if (!c) {
        await sql`UPDATE inbound_messages SET run_status = 'config_deleted' WHERE id = ${messageId}`;
        return null;
      }
      let outcome = m.outcome as RunPlan['outcome'];
      if (outcome === 'keyword' || outcome === 'expired') {
        outcome = isExpired(c.expires_at, m.received_at) ? 'expired' : 'keyword';
      }
      await sql`UPDATE inbound_messages SET outcome = ${outcome}, run_status = 'running' WHERE id = ${messageId}`;

      const words = tokenize(m.message);
      const vars = buildVariables({
        id: m.id,
        kid: c.id,
        source: m.source,
        recipient: m.recipient,
        message: m.message,
        keyword: m.keyword,
        operator: m.operator,
        circle: m.circle,
        timestamp: formatInZone(m.received_at, m.timezone ?? 'UTC'),
        named: bindTemplate(c.template_names, words.slice(m.matched_words)),
      });

      const plan: RunPlan = {
        messageId, sid: m.sid, outcome, configId: c.id, trigger: null,
        autoReply: null, expiryMessage: null, forwardSms: null, forwardEmail: null, subscription: null,
      };
      const key = (type: ActionType) => `${workflowIdFor(m.id)}-${type}`;
      const reply = c.auto_reply;
      if (outcome === 'expired') {
        if (c.expiry_message) {
          // Its own sender, else the auto reply's, else the number itself; route and DLT
          // template are its own (an auto reply's template is registered for another text).
          plan.expiryMessage = {
            type: 'expiry_message', logId: m.id, sid: m.sid, idempotencyKey: key('expiry_message'),
            sender: c.expiry_sender ?? reply?.sender ?? m.recipient, to: m.source, body: render(c.expiry_message, vars, 'text'),
            route: c.expiry_route, templateId: c.expiry_template_id,
          };
          await upsertAction(sql, m.id, 'expiry_message', 'pending');
        }
        return plan;
      }
      if (reply) {
        const at = reply.schedule.type === 'scheduled' && c.reply_at ? c.reply_at.toISOString() : null;
        plan.autoReply = {
          type: 'auto_reply', logId: m.id, sid: m.sid, idempotencyKey: key('auto_reply'),
          sender: reply.sender, to: m.source, body: render(reply.message, vars, 'text'),
          route: reply.route ?? null, templateId: reply.template_id ?? null, at,
        };
        await upsertAction(sql, m.id, 'auto_reply', at ? 'scheduled' : 'pending', at ? { scheduled_at: at } : {});
      }
      if (c.forward?.sms) {
        const f = c.forward.sms;
        plan.forwardSms = {
          type: 'forward_sms', logId: m.id, sid: m.sid, idempotencyKey: key('forward_sms'),
          sender: f.sender, to: f.to, body: forwardText(m), route: f.route ?? null, templateId: f.template_id ?? null,
        };
        await upsertAction(sql, m.id, 'forward_sms', 'pending');
      }
      if (c.forward?.email) {
        plan.forwardEmail = { logId: m.id, sid: m.sid, idempotencyKey: key('forward_email'), to: c.forward.email.to, ...forwardEmail(m, vars) };
        await upsertAction(sql, m.id, 'forward_email', 'pending');
      }
      if (c.subscribe || c.unsubscribe) {
        const type = c.subscribe ? 'subscribe' : 'unsubscribe';
        const change: SubscriptionChange = c.subscribe ? { kind: 'subscribe' }
          : c.unsubscribe!.scope === 'all' ? { kind: 'unsubscribe', scope: 'all' }
          : { kind: 'unsubscribe', scope: 'configured', senders: c.unsubscribe!.senders };
        plan.subscription = { type, logId: m.id, sid: m.sid, msisdn: m.source, viaNumber: m.recipient, change, receivedAt: m.received_at.toISOString() };
        await upsertAction(sql, m.id, type, 'pending');
      }
      if (c.trigger) plan.trigger = await prepareTrigger(sql, { id: m.id, sid: m.sid }, c.trigger, vars);
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

export async function upsertAction(sql: Sql, logId: string, type: ActionType, status: ActionStatus, detail: Record<string, unknown> = {}): Promise<void> {
  await sql`
    INSERT INTO message_actions (log_id, type, status, detail)
    VALUES (${logId}, ${type}, ${status}, ${sql.json(detail as never)})
    ON CONFLICT (log_id, type) DO NOTHING`;
}
