import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { normalizeNumber, numberKindProblem } from '../../domain/phone.js';
import type { Ingestion } from '../../ingest/ingest.js';
import { adminGuard, hashKey } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { body, errors, json, NOT_BLANK, Routes, timestamp, uuidParam } from '../openapi.js';
import { UUID } from '../query.js';
import { E164_PATTERN, SHORT_CODE_PATTERN } from '../../domain/patterns.js';

// Stored as numbers are (E.164 long codes, bare-digit short codes), so they compare with the
// recipient ingest resolves.
const number = z
  .string()
  .transform(normalizeNumber)
  .refine((n) => !numberKindProblem(n, 'long_code') || !numberKindProblem(n, 'short_code'), 'must be an E.164 long code (like +919876543210) or a 5 or 6 digit short code')
  .openapi({ anyOf: [{ pattern: E164_PATTERN }, { pattern: SHORT_CODE_PATTERN }], description: 'E.164 long code or 5 or 6 digit short code (other writings are brought to these)' });

const fields = {
  name: z.string().trim().min(1).max(100).openapi({ pattern: NOT_BLANK }),
  numbers: z
    .array(number)
    .min(1, 'must name at least one number; null allows any')
    .max(1000)
    .nullable()
    .transform((ns) => (ns ? [...new Set(ns)].sort() : null))
    .describe('the only recipients this gateway may deliver MOs to; null or absent: any number'),
};

export const gatewayInput = z.object({ ...fields, numbers: fields.numbers.default(null) }).strict();
export const gatewayPatch = z.object(fields).partial().strict();

type Row = { id: string; name: string; numbers: string[] | null; revoked_at: Date | null; created_at: Date; updated_at: Date };

const gatewayView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    numbers: z.array(z.string()).nullable().openapi({ description: 'the only recipients it may deliver to; null: any' }),
    revoked_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Gateway');

const idParam = z.object({ id: uuidParam('gateway') });

/**
 * `/v1/admin/gateways` (SPEC §5, §6): the carriers' credentials. The token is shown once, in
 * the answer to the POST; only its SHA-256 is kept. A gateway is revoked (DELETE, or POST
 * `/{id}/revoke`), never deleted: its messages keep naming it, and its token is refused at once.
 */
export function gatewayRoutes(deps: AppDeps & { ingestion: Ingestion }) {
  const { sql } = deps;
  const routes = new Routes(adminGuard(deps.tokens.admin));
  // This process refuses a revoked token from its very next request; others hear of it
  // through PostgreSQL (GatewayCache.listen).
  const changed = () => deps.ingestion.gateways.invalidate();

  const one = async (id: string) => {
    if (!UUID.test(id)) throw notFound(`gateway ${id}`);
    const [row] = await sql<Row[]>`SELECT id, name, numbers, revoked_at, created_at, updated_at FROM gateways WHERE id = ${id}`;
    if (!row) throw notFound(`gateway ${id}`);
    return row;
  };

  const nameTaken = (e: unknown, name: string | undefined) => {
    if ((e as { code?: string }).code === '23505') return new ApiError(409, 'conflict', `a gateway named ${JSON.stringify(name)} exists already`, 'name');
    return e;
  };

  const revoke = async (id: string) => {
    await one(id);
    // A second revocation keeps the first time.
    await sql`UPDATE gateways SET revoked_at = coalesce(revoked_at, now()), updated_at = now() WHERE id = ${id}`;
    changed();
    return one(id);
  };

  routes.add(createRoute({
    method: 'post', path: '/', operationId: 'createGateway', tags: ['admin'],
    summary: "Create a gateway (SPEC §5): a carrier's own ingest credential; the token is shown once, only its hash is kept",
    request: { body: body(gatewayInput) },
    responses: {
      201: json(gatewayView.extend({ token: z.string().openapi({ description: 'shown only here' }) }).openapi('GatewayCreated'), 'The gateway, with its token'),
      ...errors({ 409: 'conflict: the name is taken' }),
    },
  }), async (c, valid) => {
    const input = await valid.json();
    const token = `G${randomBytes(24).toString('hex')}`;
    const [row] = await sql<Row[]>`
      INSERT INTO gateways (name, token_hash, numbers) VALUES (${input.name}, ${hashKey(token)}, ${input.numbers}::text[])
      RETURNING id, name, numbers, revoked_at, created_at, updated_at`.catch((e) => { throw nameTaken(e, input.name); });
    changed();
    return c.json({ ...row, token }, 201);
  });

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'listGateways', tags: ['admin'],
    summary: 'Gateways (never their tokens), revoked ones included; INGEST_TOKEN is the default gateway and has no entry',
    responses: { 200: json(z.object({ gateways: z.array(gatewayView) }), 'The gateways, by name') },
  }), async (c) => c.json({
    gateways: await sql<Row[]>`SELECT id, name, numbers, revoked_at, created_at, updated_at FROM gateways ORDER BY name`,
  }));

  routes.add(createRoute({
    method: 'get', path: '/{id}', operationId: 'getGateway', tags: ['admin'], summary: 'One gateway',
    request: { params: idParam },
    responses: { 200: json(gatewayView, 'The gateway'), ...errors(404) },
  }), async (c) => c.json(await one(c.req.param('id')!)));

  routes.add(createRoute({
    method: 'patch', path: '/{id}', operationId: 'updateGateway', tags: ['admin'],
    summary: 'Rename a gateway or change the numbers it may deliver to (null: any)',
    request: { params: idParam, body: body(gatewayPatch) },
    responses: { 200: json(gatewayView, 'The gateway'), ...errors(404, { 409: 'conflict: the name is taken' }) },
  }), async (c, valid) => {
    const id = c.req.param('id')!;
    await one(id);
    const input = await valid.json();
    if (Object.keys(input).length > 0) {
      await sql`
        UPDATE gateways SET name = coalesce(${input.name ?? null}, name),
               numbers = CASE WHEN ${input.numbers !== undefined} THEN ${input.numbers ?? null}::text[] ELSE numbers END,
               updated_at = now()
        WHERE id = ${id}`.catch((e) => { throw nameTaken(e, input.name); });
      changed();
    }
    return c.json(await one(id));
  });

  routes.add(createRoute({
    method: 'delete', path: '/{id}', operationId: 'deleteGateway', tags: ['admin'],
    summary: 'Revoke a gateway: its token is refused (401) from the next request; the gateway and its messages are kept',
    request: { params: idParam },
    responses: { 204: { description: 'Revoked' }, ...errors(404) },
  }), async (c) => {
    await revoke(c.req.param('id')!);
    return c.body(null, 204);
  });

  routes.add(createRoute({
    method: 'post', path: '/{id}/revoke', operationId: 'revokeGateway', tags: ['admin'],
    summary: 'Revoke a gateway, answering with it (revoked_at set; a second revocation keeps the first time)',
    request: { params: idParam },
    responses: { 200: json(gatewayView, 'The revoked gateway'), ...errors(404) },
  }), async (c) => c.json(await revoke(c.req.param('id')!)));

  return routes.app;
}
