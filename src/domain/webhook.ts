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

/** Longest wait a `Retry-After` may ask for: the retry policy's own longest interval. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * The wait a 429 or 503 asks for with `Retry-After` (seconds, or an HTTP date), at most an
 * hour; null when there is none or it cannot be read, and the usual backoff applies.
 */
export function retryAfterMs(status: number | null, header: string | null, now: Date): number | null {
  if ((status !== 429 && status !== 503) || !header) return null;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now.getTime();
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(ms, 1000), MAX_RETRY_AFTER_MS);
}
