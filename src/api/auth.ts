import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Sql } from '../db/sql.js';
import { DEFAULT_GATEWAY, type Gateway } from '../domain/gateways.js';
import type { GatewayCache } from '../ingest/gateways.js';
import { ApiError } from './errors.js';
import { limitsOf } from './limits.js';
import { sidParam, type Guard } from './openapi.js';

export type Account = { sid: string; name: string; country: string; timezone: string };
export type AppEnv = { Variables: { account: Account } };
export type GatewayEnv = { Variables: { gateway: Gateway } };

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Equal, compared in constant time (of the hashes, so lengths do not show either). */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m ? m[1]!.trim() : null;
}

/** Operator and carrier routes: `Authorization: Bearer <token>` (SPEC §6). */
export function requireBearer(token: string, realm: string, opts: { queryParam?: string } = {}): MiddlewareHandler {
  return async (c, next) => {
    const given = bearer(c.req.header('authorization')) ?? (opts.queryParam ? c.req.query(opts.queryParam) ?? null : null);
    if (!given || !sameSecret(given, token)) {
      // The right token always passes; a wrong one from an address over its limit is a 429.
      limitsOf(c)?.screen(c);
      limitsOf(c)?.failed(c);
      throw new ApiError(401, 'unauthorized', `a valid ${realm} bearer token is required`);
    }
    await next();
  };
}

/**
 * The carrier side (SPEC §5 gateways): `INGEST_TOKEN` is the default gateway; any other token
 * is a gateway's, found by its SHA-256 (cached briefly; a revoked one is refused at once, see
 * GatewayCache). The gateway is `c.get('gateway')` for the route.
 */
export function requireGateway(tokens: { ingest: string }, gateways: GatewayCache, opts: { queryParam?: string } = {}): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const given = bearer(c.req.header('authorization')) ?? (opts.queryParam ? c.req.query(opts.queryParam) ?? null : null);
    let gateway = given && sameSecret(given, tokens.ingest) ? DEFAULT_GATEWAY : null;
    if (!gateway) {
      const hash = given ? hashKey(given) : null;
      const known = hash ? `gateway:${hash}` : null;
      limitsOf(c)?.screen(c, known);
      gateway = hash ? await gateways.byTokenHash(hash) : null;
      if (!gateway) {
        limitsOf(c)?.failed(c);
        throw new ApiError(401, 'unauthorized', 'a valid gateway bearer token is required (INGEST_TOKEN or a gateway token)');
      }
      limitsOf(c)?.verified(known!);
    }
    c.set('gateway', gateway);
    await next();
  };
}

/**
 * The console's in-process calls (`app.request(path, init, { [CONSOLE_ACCOUNT]: sid })`) carry
 * the signed-in account here, in the request's env: nothing that arrives over HTTP can set a
 * symbol key, so only this process can speak for an account without its api-key.
 */
export const CONSOLE_ACCOUNT = Symbol('console account');

/**
 * Account routes `/v1/{sid}/...`: the `api-key` header of that account, and only that account.
 * A disabled account (SPEC §5.2) is a 403 `account_disabled`, told only to the key's holder.
 */
export function requireAccount(sql: Sql): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const sid = c.req.param('sid');
    const key = c.req.header('api-key');
    const consoleSid = (c.env as Record<symbol, unknown> | undefined)?.[CONSOLE_ACCOUNT];
    const viaConsole = typeof consoleSid === 'string' && consoleSid === sid;
    // The console's own calls come signed in already: nothing to throttle.
    const limits = viaConsole ? undefined : limitsOf(c);
    const keyHash = key ? hashKey(key) : null;
    const known = sid && keyHash ? `account:${sid}:${keyHash}` : null;
    limits?.screen(c, known);
    if (!sid || (!key && !viaConsole)) {
      limits?.failed(c);
      throw new ApiError(401, 'unauthorized', 'the api-key header of the account is required');
    }
    const [row] = await sql<(Account & { api_key_hash: string; active: boolean })[]>`
      SELECT sid, name, country, timezone, api_key_hash, active FROM accounts WHERE sid = ${sid}`;
    if (!row || !(viaConsole || sameSecret(keyHash!, row.api_key_hash))) {
      limits?.failed(c);
      throw new ApiError(401, 'unauthorized', 'unknown account or wrong api-key');
    }
    if (known) limits?.verified(known);
    if (!row.active) throw new ApiError(403, 'account_disabled', `account ${row.sid} is disabled`);
    c.set('account', { sid: row.sid, name: row.name, country: row.country, timezone: row.timezone });
    await next();
  };
}

/** The operator's routes (/v1/admin): ADMIN_TOKEN. */
export function adminGuard(token: string): Guard {
  return { middleware: requireBearer(token, 'operator'), security: [{ adminToken: [] }] };
}

/** The carriers' routes: a gateway's token, in the header, or (for a GET) in `?token=`. */
export function gatewayGuard(tokens: { ingest: string }, gateways: GatewayCache, opts: { queryParam?: 'token' } = {}): Guard {
  return {
    middleware: requireGateway(tokens, gateways, opts),
    security: opts.queryParam ? [{ gatewayToken: [] }, { gatewayTokenQuery: [] }] : [{ gatewayToken: [] }],
  };
}

/** An account's routes (/v1/{sid}/...): its api-key; the mount adds the `sid` parameter. */
export function accountGuard(sql: Sql): Guard {
  return {
    middleware: requireAccount(sql),
    security: [{ apiKey: [] }],
    params: { sid: sidParam },
    responses: { 403: 'account_disabled: the operator disabled the account' },
  };
}
