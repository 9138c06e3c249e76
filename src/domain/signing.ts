import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): every delivery carries
 * `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64>`, the
 * HMAC-SHA256 of `id.timestamp.payload` keyed with the base64-decoded part of the secret.
 */

export const SECRET_PREFIX = 'whsec_';
/** How far a receiver lets `webhook-timestamp` drift from its clock, in either direction. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
/** After a rotation the previous secret keeps signing this long, so receivers can switch over. */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export function isSigningSecret(secret: string): boolean {
  return /^whsec_[A-Za-z0-9+/]{40,}={0,2}$/.test(secret);
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/** One `v1,<base64>` signature of `id.timestamp.payload`. */
export function sign(secret: string, id: string, timestamp: number, payload: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${payload}`).digest('base64')}`;
}

/**
 * The signed payload: the body as sent, or for a request without a body (GET) its target, path
 * and query, as sent, since that is where a GET carries the message.
 */
export function signedPayload(url: string, body: string | null): string {
  if (body !== null) return body;
  const u = new URL(url);
  return u.pathname + u.search;
}

/** The three headers; with several secrets (during a rotation) the signatures are space-separated. */
export function signatureHeaders(secrets: string[], id: string, timestamp: number, payload: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, id, timestamp, payload)).join(' '),
  };
}

/** The secrets that sign now: the current one, and the previous one during its grace period. */
export function activeSecrets(current: string, previous: string | null, previousUntil: Date | null, now: Date): string[] {
  return previous && previousUntil && previousUntil.getTime() > now.getTime() ? [current, previous] : [current];
}

type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | null {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name);
  const v = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

export type Verification = { ok: true } | { ok: false; reason: string };

/**
 * What a receiver does with a delivery: checks the timestamp is recent (replays of an old
 * request are refused) and that one of the `v1` signatures matches, in constant time.
 * `headers` may be a fetch `Headers` or Node's lower-cased `req.headers`.
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderSource,
  payload: string,
  opts: { toleranceSeconds?: number; now?: Date } = {},
): Verification {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a Unix time' };
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - Number(timestamp)) > (opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    return { ok: false, reason: 'webhook-timestamp is too old or too far in the future' };
  }
  const expected = Buffer.from(sign(secret, id, Number(timestamp), payload));
  for (const candidate of signatures.split(' ')) {
    const given = Buffer.from(candidate);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no signature matches' };
}
