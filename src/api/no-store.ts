import type { MiddlewareHandler } from 'hono';

/**
 * The answers that carry a secret, shown once or on demand: an account's api_key, a
 * gateway's token, signing secrets. None may be kept by a browser, a proxy or a CDN, so each
 * says `Cache-Control: no-store`, whatever its status. One list, applied in app.ts before the
 * routes; test/integration/sender-ids.test.ts walks the OpenAPI document and fails on a route
 * whose answer has such a field and is not listed here.
 */
export const SECRET_ANSWERS: readonly (readonly [method: string, path: string])[] = [
  ['POST', '/v1/admin/accounts'],
  ['POST', '/v1/admin/accounts/{sid}/api-key'],
  ['POST', '/v1/admin/gateways'],
  ['POST', '/v1/{sid}/callback/profiles'],
  ['GET', '/v1/{sid}/callback/profiles/{id}/signing-secret'],
  ['POST', '/v1/{sid}/callback/profiles/{id}/signing-secret/rotate'],
  ['GET', '/v1/{sid}/callback/signing-secret'],
  ['POST', '/v1/{sid}/callback/signing-secret/rotate'],
];

/** Fields whose value is a secret, as the answers name them. */
export const SECRET_FIELDS = ['api_key', 'token', 'signing_secret'] as const;

/** `Cache-Control: no-store` on the answers to `method` (a HEAD of a GET included). */
export function noStore(method: string): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.req.method === method || (method === 'GET' && c.req.method === 'HEAD')) c.res.headers.set('cache-control', 'no-store');
  };
}

/** An OpenAPI path (`/v1/{sid}/…`) as a Hono one (`/v1/:sid/…`). */
export const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
