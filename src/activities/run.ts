import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { bindTemplate, tokenize } from '../domain/keywords.js';
import { isExpired } from '../domain/matching.js';
import { formatInZone } from '../domain/time.js';
import { buildVariables, type MessageVariables } from '../domain/variables.js';
import { renderWebhook } from '../domain/webhook.js';
import { workflowIdFor, type ActionStatus, type ActionType, type RunPlan, type WebhookRequest } from '../workflows/definitions.js';

export type RunDeps = { sql: Sql; config: Config };

export const USER_AGENT = 'inbound-sms-keyword-engine/0.1';

type MessageRow = {
  id: string; sid: string | null; source: string; recipient: string; message: string;
  operator: string | null; circle: string | null; received_at: Date; keyword: string | null;
  outcome: string; config_id: string | null; matched_words: number; timezone: string | null;
};

type ConfigRow = {
  id: string; sid: string; keyword: string | null; template_names: string[]; expires_at: Date | null;
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
        SELECT id, sid, keyword, template_names, expires_at, trigger
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

      const plan: RunPlan = { messageId, sid: m.sid, outcome, configId: c.id, trigger: null };
      if (outcome !== 'expired' && c.trigger?.url) {
        plan.trigger = webhookRequest(m.id, c.trigger as { url: string }, vars);
        await sql`
          INSERT INTO deliveries (id, sid, log_id, url, method, status)
          VALUES (${plan.trigger.deliveryId}, ${m.sid}, ${m.id}, ${plan.trigger.url}, ${plan.trigger.method}, 'pending')
          ON CONFLICT (id) DO NOTHING`;
        await upsertAction(sql, m.id, 'trigger', 'pending', { delivery_id: plan.trigger.deliveryId });
      }
      return plan;
    },

    /** Records an action's final status; an attempt's own error, when there is one, is kept. */
    async recordAction(logId: string, type: ActionType, status: ActionStatus, error: string | null = null): Promise<void> {
      await sql`
        UPDATE message_actions SET status = ${status}, last_error = coalesce(last_error, ${error}), updated_at = now()
        WHERE log_id = ${logId} AND type = ${type}`;
      if (type === 'trigger' && status === 'failed') {
        await sql`UPDATE deliveries SET status = 'failed', last_error = coalesce(last_error, ${error}), updated_at = now()
                  WHERE log_id = ${logId} AND status = 'pending'`;
      }
    },

    async finishRun(logId: string): Promise<void> {
      await sql`UPDATE inbound_messages SET run_status = 'completed' WHERE id = ${logId}`;
    },
  };
}

function webhookRequest(messageId: string, trigger: { url: string; method?: 'POST' | 'GET' | null; body?: string | null; content_type?: string | null }, vars: MessageVariables): WebhookRequest {
  const rendered = renderWebhook(trigger, vars);
  // The delivery id is stable across retries and replays, so receivers can deduplicate.
  const deliveryId = `${workflowIdFor(messageId)}-trigger`;
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'webhook-id': deliveryId };
  if (rendered.contentType) headers['content-type'] = rendered.contentType;
  return { deliveryId, logId: messageId, url: rendered.url, method: rendered.method, headers, body: rendered.body };
}

export async function upsertAction(sql: Sql, logId: string, type: ActionType, status: ActionStatus, detail: Record<string, unknown> = {}): Promise<void> {
  await sql`
    INSERT INTO message_actions (log_id, type, status, detail)
    VALUES (${logId}, ${type}, ${status}, ${sql.json(detail as never)})
    ON CONFLICT (log_id, type) DO NOTHING`;
}
