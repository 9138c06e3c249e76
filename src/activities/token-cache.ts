import { createHash } from 'node:crypto';
import { parseTokenResponse, tokenRequest, type AdvancedAuth } from '../domain/callback-auth.js';
import { classifyResponse, type DeliveryVerdict } from '../domain/webhook.js';
import { readCapped, refusalOf, type OutboundFetch } from './guarded-fetch.js';

/** A token answer is a small JSON object; more than this is not read. */
export const TOKEN_RESPONSE_BYTES = 64 * 1024;

/** A token could not be had; `verdict` says whether a later attempt may do better. */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly verdict: Exclude<DeliveryVerdict, 'delivered'>,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

/**
 * Advanced-auth tokens, one per profile and credentials, kept in the worker's memory until
 * they expire or the endpoint answers 401. Concurrent deliveries share one token request.
 * Changed credentials make a new key, so an edited profile never uses a stale token.
 */
export function createTokenCache(opts: { timeoutSeconds: number; fetch: OutboundFetch; now?: () => number }) {
  const now = opts.now ?? Date.now;
  const tokens = new Map<string, { token: string; expiresAt: number }>();
  const inflight = new Map<string, Promise<string>>();
  const keyOf = (profileId: string, auth: AdvancedAuth) =>
    createHash('sha256')
      .update(JSON.stringify([profileId, auth.url, auth.client_id, auth.client_secret, auth.scope ?? null, auth.body_format ?? null, auth.token_field ?? null]))
      .digest('hex');

  async function fetchToken(key: string, auth: AdvancedAuth): Promise<string> {
    const req = tokenRequest(auth);
    let res: Awaited<ReturnType<OutboundFetch>>;
    try {
      res = await opts.fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutSeconds * 1000) });
    } catch (e) {
      const refused = refusalOf(e);
      if (refused) throw new TokenError(`token request ${refused.message}`, 'reject');
      throw new TokenError(`token request failed: ${e instanceof Error && e.name === 'TimeoutError' ? 'timed out' : String((e as Error).message ?? e)}`, 'retry');
    }
    const { text, complete } = await readCapped(res, TOKEN_RESPONSE_BYTES);
    const verdict = classifyResponse(res.status);
    if (verdict !== 'delivered') throw new TokenError(`token request answered HTTP ${res.status}`, verdict);
    if (!complete) throw new TokenError(`token request answered with more than ${TOKEN_RESPONSE_BYTES} bytes`, 'reject');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TokenError('token request answered with something other than JSON', 'reject');
    }
    const parsed = parseTokenResponse(json, auth.token_field, now());
    if ('problem' in parsed) throw new TokenError(parsed.problem, 'reject');
    tokens.set(key, parsed);
    return parsed.token;
  }

  return {
    /** A valid token: the cached one, or a new one from the auth URL. */
    async get(profileId: string, auth: AdvancedAuth): Promise<string> {
      const key = keyOf(profileId, auth);
      const cached = tokens.get(key);
      if (cached && cached.expiresAt > now()) return cached.token;
      let pending = inflight.get(key);
      if (!pending) {
        pending = fetchToken(key, auth).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      return pending;
    },

    /** Forgets a token the endpoint refused, unless another delivery already replaced it. */
    invalidate(profileId: string, auth: AdvancedAuth, token: string): void {
      const key = keyOf(profileId, auth);
      if (tokens.get(key)?.token === token) tokens.delete(key);
    },
  };
}

export type TokenCache = ReturnType<typeof createTokenCache>;
