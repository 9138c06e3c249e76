import type { Sql } from '../db/sql.js';
import type { WebhookRequest } from '../workflows/definitions.js';

// Rendering a trigger is part of planning a run, which the dry run shares (domain/run-plan.ts).
export { deliveryIdFor, renderTrigger, USER_AGENT, type ProfileForRender, type TriggerConfig } from '../domain/run-plan.js';

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
