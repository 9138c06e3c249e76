import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { accountSigningSecret, openSigningSecrets, type SigningSecretRow } from '../../db/signing-secrets.js';
import type { Sql } from '../../db/sql.js';
import type { ProfileAuth } from '../../domain/callback-auth.js';
import {
  callbackProfileInputSchema,
  callbackProfilePatchSchema,
  mergeProfilePatch,
  publicAuth,
  publicEnc,
  secretNotResupplied,
  type CallbackProfileInput,
  type ProfileStatus,
  type StoredProfile,
} from '../../domain/callback-profile.js';
import type { EncSettings } from '../../domain/encryption.js';
import { ValidationError } from '../../domain/errors.js';
import { requireKeyring, type Keyring } from '../../domain/keyring.js';
import { openAuth, openEnc, sealAuth, sealEnc, sealSecret } from '../../domain/profile-secrets.js';
import { checkWebhookDestination } from '../../domain/private-networks.js';
import { generateSigningSecret, ROTATION_GRACE_MS } from '../../domain/signing.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, fromZod, notFound } from '../errors.js';
import { body, errors, json, pageFields, Routes, timestamp, uuidParam } from '../openapi.js';
import { page, UUID } from '../query.js';

type ProfileRow = {
  id: string; sid: string; title: string; http_method: 'POST' | 'GET'; url: string;
  body: string | Record<string, unknown> | null; content_type: string | null; headers: Record<string, string>;
  auth: ProfileAuth | null; enc: EncSettings | null; signing_secret: string; previous_signing_secret: string | null;
  previous_secret_until: Date | null; status: ProfileStatus; disabled_reason: string | null; disabled_at: Date | null;
  consecutive_failures: number; created_at: Date; updated_at: Date;
};

/** A profile as the API shows it: password, client secret, key and IV are write-only. */
export function profileView(r: ProfileRow) {
  return {
    id: r.id,
    title: r.title,
    http_method: r.http_method,
    url: r.url,
    body: r.body,
    content_type: r.http_method === 'POST' ? (r.content_type ?? 'application/json') : null,
    headers: r.headers,
    auth: publicAuth(r.auth),
    enc: publicEnc(r.enc),
    status: r.status,
    disabled_reason: r.disabled_reason,
    disabled_at: r.disabled_at,
    consecutive_failures: r.consecutive_failures,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

const listQuery = z.object({
  title: z.string().max(100).optional().openapi({ description: 'part of the title, any case' }),
  ...page(100),
});

const profileSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    http_method: z.enum(['POST', 'GET']),
    url: z.string(),
    body: z.union([z.string(), z.record(z.string(), z.unknown())]).nullable(),
    content_type: z.string().nullable().openapi({ description: 'null for GET' }),
    headers: z.record(z.string(), z.string()),
    auth: z
      .union([
        z.object({ type: z.literal('basic'), username: z.string() }),
        z.object({
          type: z.literal('advanced'), url: z.string(), client_id: z.string(), scope: z.string().nullable(),
          body_format: z.enum(['form', 'json']), token_field: z.string(),
        }),
      ])
      .nullable()
      .openapi({ description: 'password and client_secret are write-only' }),
    enc: z
      .object({ algorithm: z.string(), fields: z.array(z.string()).nullable() })
      .nullable()
      .openapi({ description: 'key and iv are write-only' }),
    status: z.enum(['active', 'auto_disabled', 'disabled']),
    disabled_reason: z.string().nullable(),
    disabled_at: timestamp.nullable(),
    consecutive_failures: z.number().int(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('CallbackProfile');

const secretSchema = z
  .object({
    signing_secret: z.string().openapi({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
    previous_secret_valid_until: timestamp.nullable().openapi({ description: 'while a rotation\'s grace lasts, until when the previous secret still signs' }),
  })
  .openapi('SigningSecret');

const idParam = z.object({ id: uuidParam('callback profile') });


/** Another account's profile is indistinguishable from a missing one. */
async function findOwned(sql: Sql, sid: string, id: string): Promise<ProfileRow> {
  if (!UUID.test(id)) throw notFound('callback profile');
  const [row] = await sql<ProfileRow[]>`SELECT * FROM callback_profiles WHERE id = ${id} AND sid = ${sid}`;
  if (!row) throw notFound('callback profile');
  return row;
}

const titleTaken = (e: unknown) => (e as { code?: string; constraint_name?: string }).code === '23505'
  && (e as { constraint_name?: string }).constraint_name === 'callback_profiles_title';

/**
 * A stored auth or enc, opened. One that no configured SECRETS_KEY opens (the key was lost or
 * dropped too early) is left out when the PATCH gives it again or removes it, else a 409 asks
 * for it: its owner can always re-enter it.
 */
function openStored<T>(field: 'auth' | 'enc', open: () => T, given: unknown): T | null {
  try {
    return open();
  } catch {
    if (given === null || (given && typeof given === 'object')) return null;
    throw new ApiError(409, 'secret_unreadable', `the stored ${field} cannot be read with the configured SECRETS_KEY: give ${field} again, whole`, field);
  }
}

/** Columns of a checked profile, its secrets sealed; JSON columns go through sql.json. */
function columns(sql: Sql, ring: Keyring, p: CallbackProfileInput) {
  const auth = sealAuth(ring, (p.auth ?? null) as ProfileAuth | null);
  const enc = sealEnc(ring, (p.enc ?? null) as EncSettings | null);
  return {
    title: p.title,
    http_method: p.http_method,
    url: p.url,
    body: p.body == null ? null : sql.json(p.body as never),
    content_type: p.content_type ?? null,
    headers: sql.json((p.headers ?? {}) as never),
    auth: auth ? sql.json(auth as never) : null,
    enc: enc ? sql.json(enc as never) : null,
  };
}

/**
 * `/v1/{sid}/callback`: callback profiles in Kaleyra's shape (SPEC §2, §6), their signing
 * secrets, and the account's secret for inline trigger URLs. See docs/webhooks.md.
 */
export function callbackRoutes(deps: AppDeps) {
  const { sql } = deps;
  const ring = () => requireKeyring(deps.config.keys.secrets, 'SECRETS_KEY');
  const routes = new Routes<AppEnv>(accountGuard(sql));
  // The endpoint and the token URL; names are judged again when the worker connects.
  const checkDestinations = (p: CallbackProfileInput) => {
    checkWebhookDestination('url', p.url, deps.config.webhookAllowPrivateNetworks);
    if (p.auth?.type === 'advanced') checkWebhookDestination('auth.url', p.auth.url, deps.config.webhookAllowPrivateNetworks);
  };

  routes.add(createRoute({
    method: 'post', path: '/profiles', operationId: 'createCallbackProfile', tags: ['callbacks'],
    summary: 'Create a callback profile; its signing_secret is in the answer',
    request: { body: body(callbackProfileInputSchema) },
    responses: {
      201: json(profileSchema.extend({ signing_secret: z.string() }).openapi('CallbackProfileCreated'), 'The profile, with its signing secret'),
      ...errors({ 409: 'conflict: the title is taken' }),
    },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const input = await valid.json();
    checkDestinations(input);
    const secret = generateSigningSecret();
    const status = input.status ?? 'active';
    try {
      const [row] = await sql<ProfileRow[]>`
        INSERT INTO callback_profiles ${sql({
          id: randomUUID(), sid, ...columns(sql, ring(), input), signing_secret: sealSecret(ring(), secret), status,
          disabled_reason: status === 'disabled' ? 'disabled by the owner' : null,
          disabled_at: status === 'disabled' ? new Date() : null,
        })} RETURNING *`;
      // The signing secret is shown here (and by GET .../signing-secret), never in lists.
      return c.json({ ...profileView(row!), signing_secret: secret }, 201);
    } catch (e) {
      if (titleTaken(e)) throw new ApiError(409, 'conflict', `a callback profile titled "${input.title}" exists already`, 'title');
      throw e;
    }
  });

  routes.add(createRoute({
    method: 'get', path: '/profiles', operationId: 'listCallbackProfiles', tags: ['callbacks'],
    summary: 'List callback profiles (title: part of the title, any case)',
    request: { query: listQuery },
    responses: { 200: json(z.object({ data: z.array(profileSchema), ...pageFields }), 'The profiles, oldest first') },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const like = q.title ? `%${q.title.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
    const rows = await sql<ProfileRow[]>`
      SELECT * FROM callback_profiles WHERE sid = ${sid}
      ${like ? sql`AND title ILIKE ${like}` : sql``}
      ORDER BY created_at, id LIMIT ${q.limit} OFFSET ${q.offset}`;
    return c.json({ data: rows.map(profileView), limit: q.limit, offset: q.offset });
  });

  routes.add(createRoute({
    method: 'get', path: '/profiles/{id}', operationId: 'getCallbackProfile', tags: ['callbacks'],
    summary: 'One callback profile (secrets are write-only)',
    request: { params: idParam },
    responses: { 200: json(profileSchema, 'The profile'), ...errors(404) },
  }), async (c) => {
    return c.json(profileView(await findOwned(sql, c.get('account').sid, c.req.param('id')!)));
  });

  routes.add(createRoute({
    method: 'patch', path: '/profiles/{id}', operationId: 'updateCallbackProfile', tags: ['callbacks'],
    summary: 'Change some fields of a callback profile; status active re-enables it',
    request: { params: idParam, body: body(callbackProfilePatchSchema) },
    responses: {
      200: json(profileSchema, 'The profile'),
      ...errors(404, { 409: 'conflict: the title is taken; or secret_unreadable: give auth or enc again, whole' }),
    },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const existing = await findOwned(sql, sid, c.req.param('id')!);
    const patch = await valid.json();
    const stored: StoredProfile = {
      title: existing.title, http_method: existing.http_method, url: existing.url, body: existing.body,
      content_type: existing.content_type, headers: existing.headers,
      auth: openStored('auth', () => openAuth(ring(), existing.auth), patch.auth),
      enc: openStored('enc', () => openEnc(ring(), existing.enc), patch.enc),
      status: existing.status,
    };
    const missing = secretNotResupplied(stored, patch);
    if (missing) throw new ValidationError(missing.field, missing.message);
    const parsed = callbackProfileInputSchema.safeParse(mergeProfilePatch(stored, patch));
    if (!parsed.success) throw fromZod(parsed.error);
    checkDestinations(parsed.data);
    const status = parsed.data.status ?? existing.status;
    // Turning a profile back on starts its failure count afresh.
    const statusColumns = status === existing.status ? {}
      : status === 'active' ? { status, disabled_reason: null, disabled_at: null, consecutive_failures: 0 }
      : { status, disabled_reason: 'disabled by the owner', disabled_at: new Date() };
    try {
      const [row] = await sql<ProfileRow[]>`
        UPDATE callback_profiles SET ${sql({ ...columns(sql, ring(), parsed.data), ...statusColumns })}, updated_at = now()
        WHERE id = ${existing.id} AND sid = ${sid} RETURNING *`;
      if (!row) throw notFound('callback profile');
      return c.json(profileView(row));
    } catch (e) {
      if (titleTaken(e)) throw new ApiError(409, 'conflict', `a callback profile titled "${parsed.data.title}" exists already`, 'title');
      throw e;
    }
  });

  routes.add(createRoute({
    method: 'delete', path: '/profiles/{id}', operationId: 'deleteCallbackProfile', tags: ['callbacks'],
    summary: 'Delete a callback profile; 409 profile_in_use while a receive configuration names it',
    request: { params: idParam },
    responses: { 204: { description: 'Deleted' }, ...errors(404, { 409: 'profile_in_use: a receive configuration names it' }) },
  }), async (c) => {
    const { sid } = c.get('account');
    const existing = await findOwned(sql, sid, c.req.param('id')!);
    await sql.begin(async (tx) => {
      // Locked so that a configuration saved meanwhile (which reads it FOR SHARE) is seen here.
      const [locked] = await tx`SELECT id FROM callback_profiles WHERE id = ${existing.id} AND sid = ${sid} FOR UPDATE`;
      if (!locked) throw notFound('callback profile');
      const users = await tx<{ id: string }[]>`
        SELECT id FROM receive_configs WHERE trigger->>'callback_profile_id' = ${existing.id} ORDER BY created_at LIMIT 20`;
      if (users.length > 0) {
        throw new ApiError(409, 'profile_in_use',
          `callback profile is used by receive configuration(s) ${users.map((u) => u.id).join(', ')}: change their trigger first`, 'id');
      }
      await tx`DELETE FROM callback_profiles WHERE id = ${existing.id}`;
    });
    return c.body(null, 204);
  });

  routes.add(createRoute({
    method: 'get', path: '/profiles/{id}/signing-secret', operationId: 'getCallbackProfileSecret', tags: ['callbacks'],
    summary: "The profile's signing secret",
    request: { params: idParam },
    responses: { 200: json(secretSchema, 'The secret'), ...errors(404) },
  }), async (c) => {
    const row = await findOwned(sql, c.get('account').sid, c.req.param('id')!);
    return c.json(secretView(openSigningSecrets(ring(), row)));
  });

  routes.add(createRoute({
    method: 'post', path: '/profiles/{id}/signing-secret/rotate', operationId: 'rotateCallbackProfileSecret', tags: ['callbacks'],
    summary: 'A new signing secret; the previous one keeps signing for 24 hours',
    request: { params: idParam },
    responses: { 200: json(secretSchema, 'The new secret'), ...errors(404) },
  }), async (c) => {
    const { sid } = c.get('account');
    const existing = await findOwned(sql, sid, c.req.param('id')!);
    const [row] = await sql<ProfileRow[]>`
      UPDATE callback_profiles SET signing_secret = ${sealSecret(ring(), generateSigningSecret())}, previous_signing_secret = signing_secret,
             previous_secret_until = ${new Date(Date.now() + ROTATION_GRACE_MS)}, updated_at = now()
      WHERE id = ${existing.id} AND sid = ${sid} RETURNING *`;
    return c.json(secretView(openSigningSecrets(ring(), row!)));
  });

  routes.add(createRoute({
    method: 'get', path: '/signing-secret', operationId: 'getAccountSigningSecret', tags: ['callbacks'],
    summary: "The secret that signs the account's inline trigger URLs",
    responses: { 200: json(secretSchema, 'The secret') },
  }), async (c) => {
    return c.json(secretView(await accountSigningSecret(sql, c.get('account').sid, ring())));
  });

  routes.add(createRoute({
    method: 'post', path: '/signing-secret/rotate', operationId: 'rotateAccountSigningSecret', tags: ['callbacks'],
    summary: 'A new secret for inline trigger URLs; the previous one keeps signing for 24 hours',
    responses: { 200: json(secretSchema, 'The new secret') },
  }), async (c) => {
    const { sid } = c.get('account');
    await accountSigningSecret(sql, sid, ring());
    const [row] = await sql<SigningSecretRow[]>`
      UPDATE account_signing_secrets SET signing_secret = ${sealSecret(ring(), generateSigningSecret())}, previous_signing_secret = signing_secret,
             previous_secret_until = ${new Date(Date.now() + ROTATION_GRACE_MS)}, updated_at = now()
      WHERE sid = ${sid} RETURNING signing_secret, previous_signing_secret, previous_secret_until`;
    return c.json(secretView(openSigningSecrets(ring(), row!)));
  });

  return routes.app;
}

/** The secret, and while a rotation's grace lasts, until when the previous one still signs. */
function secretView(r: SigningSecretRow) {
  const grace = r.previous_secret_until && r.previous_secret_until.getTime() > Date.now();
  return { signing_secret: r.signing_secret, previous_secret_valid_until: grace ? r.previous_secret_until : null };
}
