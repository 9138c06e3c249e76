import { defaultWebhookBody, render, type MessageVariables, type RenderMode } from './variables.js';

export type InlineTrigger = {
  url: string;
  method?: 'POST' | 'GET' | null;
  body?: string | null;
  content_type?: string | null;
};

export type RenderedWebhook = { url: string; method: 'POST' | 'GET'; contentType: string | null; body: string | null };

const FORM = /^\s*application\/x-www-form-urlencoded\s*(;|$)/i;

/** How a body template's values are escaped for its content type. */
export function bodyRenderMode(contentType: string): RenderMode {
  if (/json/i.test(contentType)) return 'json';
  return FORM.test(contentType) ? 'form' : 'text';
}

/**
 * SPEC §4: a GET carries the message in its URL (values URL-encoded); a POST sends the body
 * template with values escaped for its content type (JSON-escaped, form-encoded, else as
 * they are), or the default Kaleyra body when there is none: JSON, or a form for a form type.
 */
export function renderWebhook(trigger: InlineTrigger, vars: MessageVariables): RenderedWebhook {
  const method = trigger.method ?? 'POST';
  const url = render(trigger.url, vars, 'url');
  if (method === 'GET') return { url, method, contentType: null, body: null };
  const contentType = trigger.content_type ?? 'application/json';
  const mode = bodyRenderMode(contentType);
  let body: string;
  if (trigger.body != null) body = render(trigger.body, vars, mode);
  else if (mode === 'form') body = new URLSearchParams(defaultWebhookBody(vars)).toString();
  else body = JSON.stringify(defaultWebhookBody(vars));
  return { url, method, contentType, body };
}

/**
 * The headers an attempt sends: a callback profile's own `headers`, then the request's (user
 * agent, delivery id, content type), then the Standard Webhooks signature, then the profile's
 * `Authorization`. Later ones win, so a profile's headers never stand in for the platform's.
 */
export function attemptHeaders(parts: {
  profile: Record<string, string>;
  request: Record<string, string>;
  signature: Record<string, string>;
  authorization: string | null;
}): Record<string, string> {
  const headers = { ...parts.profile, ...parts.request, ...parts.signature };
  if (parts.authorization !== null) headers.authorization = parts.authorization;
  return headers;
}

export type DeliveryVerdict = 'delivered' | 'retry' | 'reject';

/** SPEC §5: network errors, timeouts, 408, 429 and 5xx are retried; other non-2xx stop at once. */
export function classifyResponse(status: number | null): DeliveryVerdict {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'reject';
}

/**
 * What one webhook request came to, as `sms_webhook_attempts_total` counts it: an answer by its
 * status class (429, the endpoint asking to slow down, apart), else why none came.
 */
export type WebhookAttemptClass = 'success' | 'http_3xx' | 'http_4xx' | 'http_429' | 'http_5xx' | 'timeout' | 'network_error' | 'refused';

export function webhookAttemptClass(a: { statusCode: number | null; timedOut?: boolean; refused?: boolean }): WebhookAttemptClass {
  if (a.refused) return 'refused';
  const s = a.statusCode;
  if (s === null) return a.timedOut ? 'timeout' : 'network_error';
  if (s >= 200 && s < 300) return 'success';
  if (s === 429) return 'http_429';
  if (s >= 500) return 'http_5xx';
  if (s >= 400) return 'http_4xx';
  return 'http_3xx';
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

/**
 * The largest webhook a run sends: a body of 256 KiB and a URL of 8,192 characters, rendered.
 * Templates are capped when saved, but a template that repeats `<message>` grows with each MO;
 * one rendered past these is not sent (the trigger is skipped, saying why), which also keeps
 * a run's plan well under Temporal's payload limit (2 MB).
 */
export const WEBHOOK_BODY_MAX_BYTES = 256 * 1024;
export const WEBHOOK_URL_MAX_CHARS = 8192;

/** Why a rendered webhook is too large to send, or null. */
export function oversizedWebhook(url: string, body: string | null): string | null {
  if (url.length > WEBHOOK_URL_MAX_CHARS) return `the rendered URL is ${url.length} characters, over the ${WEBHOOK_URL_MAX_CHARS} limit`;
  const bytes = body === null ? 0 : Buffer.byteLength(body, 'utf8');
  if (bytes > WEBHOOK_BODY_MAX_BYTES) return `the rendered body is ${bytes} bytes, over the ${WEBHOOK_BODY_MAX_BYTES}-byte limit`;
  return null;
}
