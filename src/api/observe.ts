import type { Context, MiddlewareHandler } from 'hono';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import { matchedRoutes } from 'hono/route';
import { logFields, withLogFields, type Log } from '../runtime/logger.js';
import { metrics, secondsSince } from '../runtime/metrics.js';

/** Routes probed or scraped every few seconds: their successful answers are logged at debug only. */
const QUIET = new Set(['/health', '/ready', '/metrics']);

/**
 * The route pattern a request matched (`/v1/:sid/logs/:id`), never its path: bounded label
 * values, and no ids, numbers or capability secrets (`/v1/codec/ui/:capability`) in a label or
 * an access line. Read from the handler that answered (a route whose path matched but that
 * never ran, such as `/v1/:sid/logs` for `/v1/admin/logs`, is not it); middleware registers as
 * method ALL, so `unmatched` when no route took it (the 404 / 405 fallback).
 */
export function routeLabel(c: Context): string {
  const route = matchedRoutes(c)[c.req.routeIndex];
  return route && route.method !== 'ALL' ? route.path : 'unmatched';
}

/**
 * First of every request: a request id (the caller's `X-Request-Id` when it is up to 255 word
 * characters, `-` or `=`; else a new UUID), echoed in the response's `X-Request-Id` and put on
 * every line logged while the request is handled; then one access line (method, route pattern,
 * status, ms) and the HTTP metrics.
 */
export function observeRequests(log: Log): MiddlewareHandler<{ Variables: RequestIdVariables }>[] {
  const access: MiddlewareHandler<{ Variables: RequestIdVariables }> = async (c, next) => {
    const started = performance.now();
    let fields: Record<string, unknown> = {};
    await withLogFields({ requestId: c.var.requestId }, async () => {
      try {
        await next();
      } finally {
        // What the request's handling added to its scope (an MO's id, its run's) goes on the access line too.
        fields = logFields();
      }
    }, { fresh: true });
    const method = c.req.method;
    const route = routeLabel(c);
    const status = c.res.status;
    const seconds = secondsSince(started);
    metrics.httpRequests.inc({ method, route, status: String(status) });
    metrics.httpDuration.observe({ method, route }, seconds);
    const level = status >= 500 ? 'warn' : QUIET.has(route) && status < 400 ? 'debug' : 'info';
    log(`${method} ${route} ${status}`, { ...fields, level, method, route, status, ms: Math.round(seconds * 10_000) / 10 });
  };
  return [requestId(), access];
}
