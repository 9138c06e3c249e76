import { createRoute, z } from '@hono/zod-openapi';
import { requireKeyring } from '../../domain/keyring.js';
import { sealSecret } from '../../domain/profile-secrets.js';
import { assertGatewayUsable } from '../../ingest/gateways.js';
import type { SmppBinds } from '../../smpp/binds.js';
import { adminGuard } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { body, errors, json, NOT_BLANK, Routes, timestamp, uuidParam } from '../openapi.js';
import { UUID } from '../query.js';

// SMPP 3.4 §5.2: system_id is at most 15 characters, password 8, system_type 12 (each a C-string).
const fields = {
  name: z.string().trim().min(1).max(100).openapi({ pattern: NOT_BLANK }),
  host: z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9.\-:]+$/, 'must be a host name or an IP address, without scheme or port'),
  port: z.number().int().min(1).max(65535),
  system_id: z.string().min(1).max(15),
  password: z.string().max(8).describe('write-only: stored sealed with SECRETS_KEY, never returned'),
  system_type: z.string().max(12),
  bind_type: z.enum(['transceiver', 'receiver']),
  tls: z.boolean(),
  enabled: z.boolean(),
  max_tps: z.number().int().min(1).max(10000).describe('submit_sm per second at most, per sending process (SMS_PROVIDER=smpp)'),
  gateway_id: z.uuid().nullable().describe('the gateway (SPEC §5) its MOs are recorded under; null: the default gateway'),
};

export const smppConnectionInput = z
  .object({
    ...fields,
    system_type: fields.system_type.default(''),
    bind_type: fields.bind_type.default('transceiver'),
    tls: fields.tls.default(false),
    enabled: fields.enabled.default(true),
    max_tps: fields.max_tps.default(10),
    gateway_id: fields.gateway_id.default(null),
  })
  .strict();

export const smppConnectionPatch = z.object(fields).partial().strict();

type Row = {
  id: string; name: string; host: string; port: number; system_id: string; system_type: string; bind_type: string;
  tls: boolean; enabled: boolean; max_tps: number; gateway_id: string | null; created_at: Date; updated_at: Date;
  holder: string | null; until: Date | null; status: Record<string, unknown> | null; held: boolean;
};

const counters = z.object({
  received: z.number().int(), stored: z.number().int(), duplicates: z.number().int(), parts: z.number().int(),
  receipts: z.number().int(), errors: z.number().int(), binds: z.number().int(),
});

const connectionView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    host: z.string(),
    port: z.number().int(),
    system_id: z.string(),
    system_type: z.string(),
    bind_type: z.enum(['transceiver', 'receiver']),
    tls: z.boolean(),
    enabled: z.boolean(),
    max_tps: z.number().int(),
    gateway_id: z.uuid().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    state: z
      .object({
        state: z.enum(['connecting', 'bound', 'disconnected', 'stopped', 'disabled', 'unbound']),
        holder: z.string().nullable().openapi({ description: 'the API process holding the bind' }),
        bound_since: z.string().nullable().optional(),
        last_error: z.string().nullable().optional(),
        last_error_at: z.string().nullable().optional(),
        counters: counters.optional(),
      })
      .openapi({ description: "the bind's live state: from this process when it holds the bind, else as its holder last wrote it" }),
  })
  .openapi('SmppConnection', { description: 'never the password' });

const idParam = z.object({ id: uuidParam('SMPP connection') });

/**
 * `/v1/admin/smpp-connections` (SPEC §8): the operator's SMPP binds. The password is
 * write-only. Each connection shows its bind's live state: from this process when it holds
 * the bind, else as the holder last wrote it with its lease (at most one tick old).
 */
export function smppConnectionRoutes(deps: AppDeps & { smpp?: SmppBinds }) {
  const { sql } = deps;
  const routes = new Routes(adminGuard(deps.tokens.admin));
  const ring = () => requireKeyring(deps.config.keys.secrets, 'SECRETS_KEY');
  // A change applies at once in this process; other processes see it at their next tick.
  const changed = () => void deps.smpp?.refresh();

  const select = (where: ReturnType<typeof sql>) => sql<Row[]>`
    SELECT c.id, c.name, c.host, c.port, c.system_id, c.system_type, c.bind_type, c.tls, c.enabled, c.max_tps, c.gateway_id, c.created_at, c.updated_at,
           b.holder, b.until, b.status, coalesce(b.until > now(), false) AS held
    FROM smpp_connections c LEFT JOIN smpp_binds b ON b.connection_id = c.id
    ${where} ORDER BY c.name`;

  const view = (r: Row) => {
    const { holder, until: _until, status, held, ...connection } = r;
    // Disabled wins over a bind still being let go; a lease just taken has no state written yet.
    const live = r.enabled ? deps.smpp?.local(r.id) : null;
    const state = !r.enabled
      ? { state: 'disabled', holder: null }
      : (live ?? (held && status && 'state' in status ? { ...status, holder } : { state: 'unbound', holder: held ? holder : null }));
    return { ...connection, state };
  };

  const one = async (id: string) => {
    if (!UUID.test(id)) throw notFound(`SMPP connection ${id}`);
    const [row] = await select(sql`WHERE c.id = ${id}`);
    if (!row) throw notFound(`SMPP connection ${id}`);
    return row;
  };

  const nameTaken = (e: unknown, name: string | undefined) => {
    if ((e as { code?: string }).code === '23503') return new ApiError(400, 'invalid_field', 'gateway_id names no gateway', 'gateway_id');
    if ((e as { code?: string }).code === '23505') return new ApiError(409, 'conflict', `an SMPP connection named ${JSON.stringify(name)} exists already`, 'name');
    return e;
  };

  routes.add(createRoute({
    method: 'post', path: '/', operationId: 'createSmppConnection', tags: ['admin'],
    summary: 'Create an SMPP bind to an SMSC (SPEC §8); the password is write-only',
    request: { body: body(smppConnectionInput) },
    responses: { 201: json(connectionView, 'The connection with its state'), ...errors({ 409: 'conflict: the name is taken, or gateway_id names a revoked gateway' }) },
  }), async (c, valid) => {
    const input = await valid.json();
    await assertGatewayUsable(sql, input.gateway_id);
    const [created] = await sql<{ id: string }[]>`
      INSERT INTO smpp_connections (name, host, port, system_id, password, system_type, bind_type, tls, enabled, max_tps, gateway_id)
      VALUES (${input.name}, ${input.host}, ${input.port}, ${input.system_id}, ${sealSecret(ring(), input.password)},
              ${input.system_type}, ${input.bind_type}, ${input.tls}, ${input.enabled}, ${input.max_tps}, ${input.gateway_id})
      RETURNING id`.catch((e) => { throw nameTaken(e, input.name); });
    changed();
    return c.json(view(await one(created!.id)), 201);
  });

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'listSmppConnections', tags: ['admin'],
    summary: 'SMPP connections with their live state (bound, last error, counters)',
    responses: { 200: json(z.object({ smpp_connections: z.array(connectionView) }), 'The connections, by name') },
  }), async (c) => c.json({ smpp_connections: (await select(sql``)).map(view) }));

  routes.add(createRoute({
    method: 'get', path: '/{id}', operationId: 'getSmppConnection', tags: ['admin'],
    summary: 'An SMPP connection with its live state',
    request: { params: idParam },
    responses: { 200: json(connectionView, 'The connection'), ...errors(404) },
  }), async (c) => c.json(view(await one(c.req.param('id')!))));

  routes.add(createRoute({
    method: 'patch', path: '/{id}', operationId: 'updateSmppConnection', tags: ['admin'],
    summary: 'Change an SMPP connection (a new password; enabled: false unbinds); it rebinds with the change',
    request: { params: idParam, body: body(smppConnectionPatch) },
    responses: { 200: json(connectionView, 'The connection'), ...errors(404, { 409: 'conflict: the name is taken, or gateway_id names a revoked gateway' }) },
  }), async (c, valid) => {
    const id = c.req.param('id')!;
    await one(id);
    const input = await valid.json();
    await assertGatewayUsable(sql, input.gateway_id);
    const set: Record<string, unknown> = { ...input };
    if (input.password !== undefined) set.password = sealSecret(ring(), input.password);
    if (Object.keys(set).length > 0) {
      await sql`UPDATE smpp_connections SET ${sql(set)}, updated_at = now() WHERE id = ${id}`.catch((e) => { throw nameTaken(e, input.name); });
      changed();
    }
    return c.json(view(await one(id)));
  });

  routes.add(createRoute({
    method: 'delete', path: '/{id}', operationId: 'deleteSmppConnection', tags: ['admin'],
    summary: 'Delete an SMPP connection: unbinds; parts of long MOs it left are still joined and stored',
    request: { params: idParam },
    responses: { 204: { description: 'Deleted' }, ...errors(404) },
  }), async (c) => {
    const id = c.req.param('id')!;
    if (!UUID.test(id)) throw notFound(`SMPP connection ${id}`);
    const rows = await sql`DELETE FROM smpp_connections WHERE id = ${id} RETURNING id`;
    if (rows.length === 0) throw notFound(`SMPP connection ${id}`);
    changed();
    return c.body(null, 204);
  });

  return routes.app;
}
