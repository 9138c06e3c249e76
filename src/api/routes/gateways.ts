import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { normalizeNumber, numberKindProblem } from '../../domain/phone.js';
import type { Ingestion } from '../../ingest/ingest.js';
import { hashKey, requireBearer } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, notFound, parseJson } from '../errors.js';

// Stored as numbers are (E.164 long codes, bare-digit short codes), so they compare with the
// recipient ingest resolves.
const number = z
  .string()
  .transform(normalizeNumber)
  .refine((n) => !numberKindProblem(n, 'long_code') || !numberKindProblem(n, 'short_code'), 'must be an E.164 long code (like +919876543210) or a 5 or 6 digit short code');

const fields = {
  name: z.string().trim().min(1).max(100),
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `/v1/admin/gateways` (SPEC §5, §6): the carriers' credentials. The token is shown once, in
 * the answer to the POST; only its SHA-256 is kept. A gateway is revoked (DELETE, or POST
 * `/{id}/revoke`), never deleted: its messages keep naming it, and its token is refused at once.
 */
export function gatewayRoutes(deps: AppDeps & { ingestion: Ingestion }) {
  const { sql } = deps;
  const app = new Hono();
  app.use('*', requireBearer(deps.tokens.admin, 'operator'));
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

  app.post('/', async (c) => {
    const input = await parseJson(c, gatewayInput);
    const token = `G${randomBytes(24).toString('hex')}`;
    const [row] = await sql<Row[]>`
      INSERT INTO gateways (name, token_hash, numbers) VALUES (${input.name}, ${hashKey(token)}, ${input.numbers}::text[])
      RETURNING id, name, numbers, revoked_at, created_at, updated_at`.catch((e) => { throw nameTaken(e, input.name); });
    changed();
    return c.json({ ...row, token }, 201);
  });

  app.get('/', async (c) => c.json({
    gateways: await sql<Row[]>`SELECT id, name, numbers, revoked_at, created_at, updated_at FROM gateways ORDER BY name`,
  }));

  app.get('/:id', async (c) => c.json(await one(c.req.param('id'))));

  app.patch('/:id', async (c) => {
    const id = c.req.param('id');
    await one(id);
    const input = await parseJson(c, gatewayPatch);
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

  app.post('/:id/revoke', async (c) => c.json(await revoke(c.req.param('id'))));

  app.delete('/:id', async (c) => {
    await revoke(c.req.param('id'));
    return c.body(null, 204);
  });

  return app;
}
