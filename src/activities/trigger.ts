import type { Sql } from '../db/sql.js';
import { profileWebhook, type StoredProfile } from '../domain/callback-profile.js';
import { encryptVariables } from '../domain/encryption.js';
import type { MessageVariables } from '../domain/variables.js';
import { oversizedWebhook, renderWebhook } from '../domain/webhook.js';
import { workflowIdFor, type WebhookRequest } from '../workflows/definitions.js';

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

export type DeliveryRow = {
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

/** The columns of a callback profile that rendering its request needs. */
export type ProfileForRender = Pick<StoredProfile, 'url' | 'http_method' | 'body' | 'content_type' | 'enc'> & { id: string };

/**
 * The trigger part of preparing a run, pure: renders the inline webhook or the callback
 * profile (values encrypted first when the profile asks for it) into the request every
 * attempt and replay will send. `profile` is the named profile as stored, or null when it no
 * longer exists (the trigger is then skipped). The caller stores the request as the
 * message's delivery; a prepare that runs again keeps the stored one.
 */
export function renderTrigger(
  m: { id: string; sid: string },
  trigger: TriggerConfig,
  profile: ProfileForRender | null,
  vars: MessageVariables,
): WebhookRequest | { skip: string } | null {
  const deliveryId = deliveryIdFor(m.id);
  let rendered;
  if (trigger.callback_profile_id) {
    if (!profile) return { skip: `callback profile ${trigger.callback_profile_id} no longer exists` };
    rendered = renderWebhook(profileWebhook(profile), profile.enc ? encryptVariables(vars, profile.enc) : vars);
  } else if (trigger.url) {
    rendered = renderWebhook({ ...trigger, url: trigger.url }, vars);
  } else {
    return null;
  }
  const oversized = oversizedWebhook(rendered.url, rendered.body);
  if (oversized) return { skip: oversized };
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'webhook-id': deliveryId };
  if (rendered.contentType) headers['content-type'] = rendered.contentType;
  return {
    deliveryId, logId: m.id, sid: m.sid, profileId: trigger.callback_profile_id ? profile!.id : null,
    url: rendered.url, method: rendered.method, headers, body: rendered.body,
  };
}
