/**
 * Callback profile authentication (SPEC §2): `basic` sends `Authorization: Basic`; `advanced`
 * first gets a token from the owner's auth URL with a client id and secret (an OAuth 2.0
 * client-credentials request), then sends `Authorization: Bearer <token>`.
 */

export type BasicAuth = { type: 'basic'; username: string; password: string };
export type AdvancedAuth = {
  type: 'advanced';
  url: string;
  client_id: string;
  client_secret: string;
  scope?: string | null;
  /** how the credentials are posted: OAuth's form encoding, or a JSON object */
  body_format?: 'form' | 'json' | null;
  /** where the token is in the JSON answer, dotted for nested objects */
  token_field?: string | null;
};
export type ProfileAuth = BasicAuth | AdvancedAuth;

/** A token without an expiry is reused at most this long (or until the endpoint answers 401). */
export const TOKEN_DEFAULT_TTL_MS = 60 * 60 * 1000;
/** A token is renewed this long (at most half its life) before it expires, so it does not expire on the way. */
export const TOKEN_EXPIRY_MARGIN_MS = 30 * 1000;

export function basicAuthorization(auth: BasicAuth): string {
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
}

export function tokenRequest(auth: AdvancedAuth): { url: string; headers: Record<string, string>; body: string } {
  const fields: Record<string, string> = { grant_type: 'client_credentials', client_id: auth.client_id, client_secret: auth.client_secret };
  if (auth.scope) fields.scope = auth.scope;
  if (auth.body_format === 'json') {
    return { url: auth.url, headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(fields) };
  }
  return {
    url: auth.url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(fields).toString(),
  };
}

export type Token = { token: string; expiresAt: number };

/**
 * Reads the token and its lifetime from the auth server's JSON: `expires_in` (seconds, a
 * number or a string, as in Kaleyra's sample) or `expires_on` (Unix seconds).
 */
export function parseTokenResponse(json: unknown, tokenField: string | null | undefined, nowMs: number): Token | { problem: string } {
  if (json === null || typeof json !== 'object') return { problem: 'the token answer is not a JSON object' };
  const path = (tokenField || 'access_token').split('.');
  let v: unknown = json;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  if (typeof v !== 'string' || v === '') return { problem: `the token answer has no "${path.join('.')}"` };
  const obj = json as Record<string, unknown>;
  const expiresIn = Number(obj.expires_in);
  const expiresOn = Number(obj.expires_on);
  let expiresAt = nowMs + TOKEN_DEFAULT_TTL_MS;
  if (Number.isFinite(expiresIn) && expiresIn > 0) expiresAt = nowMs + expiresIn * 1000;
  else if (Number.isFinite(expiresOn) && expiresOn > 0) expiresAt = expiresOn * 1000;
  return { token: v, expiresAt: expiresAt - Math.min(TOKEN_EXPIRY_MARGIN_MS, Math.max(0, expiresAt - nowMs) / 2) };
}
