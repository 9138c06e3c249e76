import { defaultWebhookBody, render, type MessageVariables } from './variables.js';

export type InlineTrigger = {
  url: string;
  method?: 'POST' | 'GET' | null;
  body?: string | null;
  content_type?: string | null;
};

export type RenderedWebhook = { url: string; method: 'POST' | 'GET'; contentType: string | null; body: string | null };

/**
 * SPEC §4: a GET carries the message in its URL (values URL-encoded); a POST sends the body
 * template with values JSON-escaped, or the default Kaleyra body when there is none.
 */
export function renderWebhook(trigger: InlineTrigger, vars: MessageVariables): RenderedWebhook {
  const method = trigger.method ?? 'POST';
  const url = render(trigger.url, vars, 'url');
  if (method === 'GET') return { url, method, contentType: null, body: null };
  const contentType = trigger.content_type ?? 'application/json';
  const body =
    trigger.body == null
      ? JSON.stringify(defaultWebhookBody(vars))
      : render(trigger.body, vars, /json/i.test(contentType) ? 'json' : 'text');
  return { url, method, contentType, body };
}

export type DeliveryVerdict = 'delivered' | 'retry' | 'reject';

/** SPEC §5: network errors, timeouts, 408, 429 and 5xx are retried; other non-2xx stop at once. */
export function classifyResponse(status: number | null): DeliveryVerdict {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'reject';
}
