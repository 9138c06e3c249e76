import { OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { parseJson, parseQuery } from './errors.js';

/**
 * The OpenAPI document is generated from the route definitions themselves (SPEC §6): every
 * route is added through `Routes.add`, which registers its definition (parameters, body,
 * every response with its schema, operationId, tags, security) and its handler together, so a
 * route cannot be served without being documented. The handler validates with the very
 * schemas the document shows, through our own parseJson / parseQuery (a body is read as JSON
 * whatever its content type, NUL characters and deep nesting are refused first, and a failure
 * is the usual 400 naming the field), not through the library's validators.
 */

/** One JSON shape for every error (SPEC §6). */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_field' }),
      message: z.string().openapi({ example: 'keyword must not be empty' }),
      field: z.string().optional().openapi({ description: 'the field at fault, dotted for a nested one (auto_reply.sender, aliases.1)' }),
    }),
  })
  .openapi('Error');

const ERROR_TEXT: Record<number, string> = {
  400: 'The input breaks a rule; the error names the field',
  401: 'No valid credential for this route',
  403: 'Refused for this caller',
  404: 'No such resource (another account\'s is as missing)',
  405: 'The path exists, the method does not (see the Allow header)',
  409: 'The request conflicts with the current state',
  413: 'The body is larger than BODY_LIMIT_BYTES',
  429: 'throttled: too many failed credentials from this client address (THROTTLE_FAILED_AUTH_PER_MINUTE); see Retry-After',
  502: 'The SMS provider refused the message',
  503: 'A service this request needs (Temporal, the SMS provider) cannot be reached now; retry later',
};

const retryAfter = { 'Retry-After': { description: 'seconds to wait before asking again', schema: { type: 'integer' as const, minimum: 1 } } };
const errorResponse = (description: string, status?: number) => ({
  description,
  ...(status === 429 ? { headers: retryAfter } : {}),
  content: { 'application/json': { schema: errorSchema } },
});

/**
 * Error responses: a status list, or statuses with the reasons they are answered for.
 * `errors(404, { 409: 'keyword_taken: …' })`.
 */
export function errors(...specs: (number | Record<number, string>)[]) {
  const out: Record<number, ReturnType<typeof errorResponse>> = {};
  for (const spec of specs) {
    if (typeof spec === 'number') out[spec] = errorResponse(ERROR_TEXT[spec] ?? 'refused', spec);
    else for (const [code, why] of Object.entries(spec)) out[Number(code)] = errorResponse(why, Number(code));
  }
  return out;
}

/** A JSON response with its schema. */
export const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });

/** A request body: JSON, required. */
export const body = <S extends z.ZodType>(schema: S, description?: string) => ({
  required: true,
  ...(description ? { description } : {}),
  content: { 'application/json': { schema } },
});

/** The `limit` and `offset` a list answers with. */
export const pageFields = { limit: z.number().int(), offset: z.number().int() };

/** …and, for a list that pages by keyset (`cursorPage`), the cursor of the page after. */
export const cursorPageFields = {
  ...pageFields,
  next_cursor: z.string().nullable().openapi({ description: 'give it as cursor for the page after this one; null when this page is the last' }),
};

export { NOT_BLANK } from '../domain/patterns.js';

/** A timestamp as the API writes it (ISO 8601, UTC). */
export const timestamp = z.iso.datetime().openapi({ example: '2026-05-01T10:00:00.000Z' });

/** The credentials of SPEC §6, as security schemes. */
export const securitySchemes = {
  adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN: the operator routes under /v1/admin and the codec endpoint' },
  gatewayToken: {
    type: 'http', scheme: 'bearer',
    description: "A gateway's token (POST /v1/admin/gateways), or INGEST_TOKEN for the default gateway: /v1/inbound and /v1/delivery-reports",
  },
  gatewayTokenQuery: {
    type: 'apiKey', in: 'query', name: 'token',
    description: 'The same gateway token as a query parameter, for carriers that can only call a GET URL',
  },
  apiKey: { type: 'apiKey', in: 'header', name: 'api-key', description: "The account's api_key (shown once, when the account is made): the routes under /v1/{sid}" },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set: GET /metrics' },
} as const;

export type SecurityScheme = keyof typeof securitySchemes;

/** What guards a group of routes: its middleware and how the document names it. */
export type Guard = {
  middleware: MiddlewareHandler<any>;
  security: Partial<Record<SecurityScheme, string[]>>[];
  /** path parameters the mount adds (the account's `sid`) */
  params?: Record<string, z.ZodType>;
  /** what the guard itself may answer beyond 401 and 429 (a disabled account's 403), by status */
  responses?: Record<number, string>;
};

/** Every operation is named and filed: the document has no anonymous route. */
export type Documented = RouteConfig & { operationId: string; tags: string[]; summary: string };

type RequestParts = { params?: z.ZodObject; query?: z.ZodType; body?: { content?: Record<string, { schema?: unknown }> }; headers?: unknown };

type JsonBodyOf<R> = R extends { request: { body: { content: { 'application/json': { schema: infer S extends z.ZodType } } } } } ? z.output<S> : never;
type QueryOf<R> = R extends { request: { query: infer S extends z.ZodType } } ? z.output<S> : never;

/** The route's own schemas, applied when the handler asks (so it keeps its order of checks). */
export type Valid<R> = { json: () => Promise<JsonBodyOf<R>>; query: () => QueryOf<R> };

type Handler<E extends Env, R> = (c: Context<E>, valid: Valid<R>) => Response | Promise<Response>;

/** An OpenAPIHono whose routes are added with their definitions, under one guard. */
export class Routes<E extends Env = Env> {
  readonly app = new OpenAPIHono<E>();

  constructor(private readonly guard: Guard | null) {}

  add<R extends Documented>(route: R, handler: Handler<E, R>): this {
    const { middleware, ...definition } = route;
    const request = (definition.request ?? {}) as RequestParts;
    const params = { ...(this.guard?.params ?? {}), ...(request.params?.shape ?? {}) };
    const hasParams = Object.keys(params).length > 0;
    const jsonSchema = (request.body?.content?.['application/json']?.schema ?? null) as z.ZodType | null;
    this.app.openAPIRegistry.registerPath({
      ...definition,
      security: this.guard?.security ?? [],
      request: { ...request, ...(hasParams ? { params: z.object(params) } : {}) },
      responses: {
        // A NUL in the path and a body over the limit are refused before any route (app.ts);
        // a route's own description of one of these statuses stays.
        ...(hasParams || request.query || jsonSchema ? errors(400) : {}),
        ...(this.guard ? errors(401, 429, this.guard.responses ?? {}) : {}),
        ...(jsonSchema ? errors(413) : {}),
        ...withGuardReasons(definition.responses, this.guard?.responses),
      },
    });
    const valid: (c: Context<E>) => Valid<R> = (c) => ({
      json: () => {
        if (!jsonSchema) throw new Error(`${route.operationId} takes no body`);
        return parseJson(c, jsonSchema) as Promise<JsonBodyOf<R>>;
      },
      query: () => {
        if (!request.query) throw new Error(`${route.operationId} takes no query`);
        return parseQuery(c, request.query as z.ZodType) as QueryOf<R>;
      },
    });
    const before = [...(this.guard ? [this.guard.middleware] : []), ...(middleware ? [middleware].flat() : [])] as MiddlewareHandler<E>[];
    const path = route.path.replace(/\{(\w+)\}/g, ':$1');
    this.app.on([route.method.toUpperCase()], [path], ...(before as []), (c: Context<E>) => handler(c, valid(c)));
    return this;
  }
}

/** A route's own description of a status its guard answers too names both reasons. */
function withGuardReasons(responses: RouteConfig['responses'], guard: Record<number, string> | undefined): RouteConfig['responses'] {
  if (!guard) return responses;
  const out = { ...responses };
  for (const [status, why] of Object.entries(guard)) {
    const own = out[status] as { description?: string } | undefined;
    if (own?.description) out[status] = { ...own, description: `${own.description}; ${why}` } as (typeof out)[string];
  }
  return out;
}

/** Path parameters are never empty; their own rules (uuid, E.164) are checked by the handler, as a 404. */
export const uuidParam = (what: string) =>
  z.string().openapi({ description: `the ${what}'s id`, format: 'uuid', example: '3f2b8c9e-1d4a-4c6b-9e2f-0a1b2c3d4e5f' });

export const sidParam = z.string().min(1).openapi({ description: "the account's sid", example: 'HXUS0123456789AB' });

/** The document, generated once every route is added. */
export function openApiDocument(app: OpenAPIHono<any>) {
  for (const [name, scheme] of Object.entries(securitySchemes)) {
    app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  }
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Inbound SMS keyword engine',
      version: '1',
      description: 'Receive MO messages on virtual numbers and act on them per keyword. Interactive documentation: /docs.',
    },
    tags: [
      { name: 'admin', description: 'The operator: accounts, numbers, gateways, SMPP connections (ADMIN_TOKEN)' },
      { name: 'carrier', description: 'Carriers and gateways: MO messages and delivery reports (a gateway token)' },
      { name: 'codec', description: "Temporal's codec endpoint for encrypted payloads" },
      { name: 'account', description: "An account's numbers and sender IDs (its api-key)" },
      { name: 'receive-configs', description: 'What each keyword does (SPEC §2)' },
      { name: 'callbacks', description: 'Callback profiles and signing secrets' },
      { name: 'deliveries', description: 'Webhook deliveries and replays' },
      { name: 'logs', description: 'MO logs and their runs' },
      { name: 'messages', description: 'The send API and the outbox' },
      { name: 'subscriptions', description: 'The opt-in / opt-out list and the standard keywords' },
      { name: 'service', description: 'Health and this documentation' },
    ],
  });
}
