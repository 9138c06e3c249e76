import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
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
import type { AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, fromZod, notFound, parseJson, parseQuery } from '../errors.js';
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
  title: z.string().max(100).optional(),
  ...page(100),
});


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
  const app = new Hono<AppEnv>();
  // The endpoint and the token URL; names are judged again when the worker connects.
  const checkDestinations = (p: CallbackProfileInput) => {
    checkWebhookDestination('url', p.url, deps.config.webhookAllowPrivateNetworks);
    if (p.auth?.type === 'advanced') checkWebhookDestination('auth.url', p.auth.url, deps.config.webhookAllowPrivateNetworks);
  };

  app.post('/profiles', async (c) => {
    const { sid } = c.get('account');
    const input = await parseJson(c, callbackProfileInputSchema);
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

  app.get('/profiles', async (c) => {
    const { sid } = c.get('account');
    const q = parseQuery(c, listQuery);
    const like = q.title ? `%${q.title.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%` : null;
    const rows = await sql<ProfileRow[]>`
      SELECT * FROM callback_profiles WHERE sid = ${sid}
      ${like ? sql`AND title ILIKE ${like}` : sql``}
      ORDER BY created_at, id LIMIT ${q.limit} OFFSET ${q.offset}`;
    return c.json({ data: rows.map(profileView), limit: q.limit, offset: q.offset });
  });

  app.get('/profiles/:id', async (c) => {
    return c.json(profileView(await findOwned(sql, c.get('account').sid, c.req.param('id'))));
  });

  app.patch('/profiles/:id', async (c) => {
    const { sid } = c.get('account');
    const existing = await findOwned(sql, sid, c.req.param('id'));
    const patch = await parseJson(c, callbackProfilePatchSchema);
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

  app.delete('/profiles/:id', async (c) => {
    const { sid } = c.get('account');
    const existing = await findOwned(sql, sid, c.req.param('id'));
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

  app.get('/profiles/:id/signing-secret', async (c) => {
    const row = await findOwned(sql, c.get('account').sid, c.req.param('id'));
    return c.json(secretView(openSigningSecrets(ring(), row)));
  });

  app.post('/profiles/:id/signing-secret/rotate', async (c) => {
    const { sid } = c.get('account');
    const existing = await findOwned(sql, sid, c.req.param('id'));
    const [row] = await sql<ProfileRow[]>`
      UPDATE callback_profiles SET signing_secret = ${sealSecret(ring(), generateSigningSecret())}, previous_signing_secret = signing_secret,
             previous_secret_until = ${new Date(Date.now() + ROTATION_GRACE_MS)}, updated_at = now()
      WHERE id = ${existing.id} AND sid = ${sid} RETURNING *`;
    return c.json(secretView(openSigningSecrets(ring(), row!)));
  });

  app.get('/signing-secret', async (c) => {
    return c.json(secretView(await accountSigningSecret(sql, c.get('account').sid, ring())));
  });

  app.post('/signing-secret/rotate', async (c) => {
    const { sid } = c.get('account');
    await accountSigningSecret(sql, sid, ring());
    const [row] = await sql<SigningSecretRow[]>`
      UPDATE account_signing_secrets SET signing_secret = ${sealSecret(ring(), generateSigningSecret())}, previous_signing_secret = signing_secret,
             previous_secret_until = ${new Date(Date.now() + ROTATION_GRACE_MS)}, updated_at = now()
      WHERE sid = ${sid} RETURNING signing_secret, previous_signing_secret, previous_secret_until`;
    return c.json(secretView(openSigningSecrets(ring(), row!)));
  });

  return app;
}

/** The secret, and while a rotation's grace lasts, until when the previous one still signs. */
function secretView(r: SigningSecretRow) {
  const grace = r.previous_secret_until && r.previous_secret_until.getTime() > Date.now();
  return { signing_secret: r.signing_secret, previous_secret_valid_until: grace ? r.previous_secret_until : null };
}
