import type { Context, Hono } from 'hono';
import { ApiError, errorResponse } from './errors.js';

/** First path segments under /v1 that are the service's own, never an account's sid. */
export const RESERVED_PREFIXES = ['admin', 'inbound', 'delivery-reports', 'codec'] as const;

type Entry = { pattern: RegExp; method: string; account: boolean };

const toRegExp = (path: string) =>
  new RegExp(`^${path.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);

/**
 * What a request no route took is answered with: 405 with `Allow` when its path is a route's
 * with another method, else 404. Computed from the app's own routes, so it cannot drift.
 * `/v1/{sid}/…` routes do not claim a path whose `{sid}` is one of RESERVED_PREFIXES.
 */
export function fallback(app: Hono<any>) {
  let table: Entry[] | null = null;
  return (c: Context) => {
    table ??= app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
      .map((r) => ({ pattern: toRegExp(r.path), method: r.method, account: r.path.startsWith('/v1/:sid/') }));
    const path = c.req.path;
    const reserved = (RESERVED_PREFIXES as readonly string[]).includes(path.split('/')[2] ?? '');
    const methods = new Set(table.filter((e) => e.pattern.test(path) && !(e.account && reserved)).map((e) => e.method));
    if (methods.has('GET')) methods.add('HEAD');
    // A route with this very method that did not take the request (a path the router reads
    // differently) is no case for 405: nothing here serves it.
    if (methods.size === 0 || methods.has(c.req.method)) return errorResponse(new ApiError(404, 'not_found', 'no such route'), c);
    const allow = [...methods].join(', ');
    c.header('Allow', allow);
    return errorResponse(new ApiError(405, 'method_not_allowed', `${c.req.method} is not a method of ${path}; it takes ${allow}`), c);
  };
}
