import type { Sql } from '../db/sql.js';
import { profileWebhook, type StoredProfile } from '../domain/callback-profile.js';
import { encryptVariables } from '../domain/encryption.js';
import type { MessageVariables } from '../domain/variables.js';
import { renderWebhook } from '../domain/webhook.js';
import { workflowIdFor, type WebhookRequest } from '../workflows/definitions.js';
import { upsertAction } from './run.js';

export const USER_AGENT = 'inbound-sms-keyword-engine/0.1';

export type TriggerConfig = {
  url?: string | null;
  method?: 'POST' | 'GET' | null;
  body?: string | null;
  content_type?: string | null;
  callback_profile_id?: string | null;
};

/** The delivery id is stable across retries and replays, so receivers can deduplicate. */
export function deliveryIdFor(messageId: string): string {
  return `${workflowIdFor(messageId)}-trigger`;
}

type DeliveryRow = {
  id: string; log_id: string; sid: string; profile_id: string | null; url: string; method: 'POST' | 'GET';
  request_headers: Record<string, string>; body: string | null;
};

export function requestOf(d: DeliveryRow): WebhookRequest {
  return { deliveryId: d.id, logId: d.log_id, sid: d.sid, profileId: d.profile_id, url: d.url, method: d.method, headers: d.request_headers, body: d.body };
}

export async function loadDeliveryRequest(sql: Sql, deliveryId: string): Promise<WebhookRequest | null> {
  const [d] = await sql<DeliveryRow[]>`
    SELECT id, log_id, sid, profile_id, url, method, request_headers, body FROM deliveries WHERE id = ${deliveryId}`;
  return d ? requestOf(d) : null;
}

/**
 * The trigger part of preparing a run: renders the inline webhook or the callback profile
 * (values encrypted first when the profile asks for it) and stores the request as the
 * message's delivery. A prepare that runs again returns the stored request unchanged.
 */
export async function prepareTrigger(
  sql: Sql,
  m: { id: string; sid: string },
  trigger: TriggerConfig,
  vars: MessageVariables,
): Promise<WebhookRequest | null> {
  const deliveryId = deliveryIdFor(m.id);
  const stored = await loadDeliveryRequest(sql, deliveryId);
  if (stored) return stored;

  let profileId: string | null = null;
  let rendered;
  if (trigger.callback_profile_id) {
    const [p] = await sql<(Pick<StoredProfile, 'url' | 'http_method' | 'body' | 'content_type' | 'enc'> & { id: string })[]>`
      SELECT id, url, http_method, body, content_type, enc FROM callback_profiles
      WHERE id::text = ${trigger.callback_profile_id} AND sid = ${m.sid}`;
    if (!p) {
      await upsertAction(sql, m.id, 'trigger', 'skipped', { reason: `callback profile ${trigger.callback_profile_id} no longer exists` });
      return null;
    }
    profileId = p.id;
    rendered = renderWebhook(profileWebhook(p), p.enc ? encryptVariables(vars, p.enc) : vars);
  } else if (trigger.url) {
    rendered = renderWebhook({ ...trigger, url: trigger.url }, vars);
  } else {
    return null;
  }

  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'webhook-id': deliveryId };
  if (rendered.contentType) headers['content-type'] = rendered.contentType;
  const req: WebhookRequest = {
    deliveryId, logId: m.id, sid: m.sid, profileId, url: rendered.url, method: rendered.method, headers, body: rendered.body,
  };
  // The action first: a prepare that stops in between finds no delivery and writes both again.
  await upsertAction(sql, m.id, 'trigger', 'pending', { delivery_id: deliveryId, ...(profileId ? { callback_profile_id: profileId } : {}) });
  await sql`
    INSERT INTO deliveries (id, sid, log_id, profile_id, url, method, request_headers, body, status)
    VALUES (${deliveryId}, ${m.sid}, ${m.id}, ${profileId}, ${req.url}, ${req.method}, ${sql.json(headers)}, ${req.body}, 'pending')
    ON CONFLICT (id) DO NOTHING`;
  return req;
}
