import { z } from 'zod';
import type { ProfileAuth } from './callback-auth.js';
import { ENC_ALGORITHMS, encSettingsProblem, ivBytesFor, keyBytesFor, type EncSettings } from './encryption.js';
import { HTTP_URL_PATTERN, MEDIA_TYPE_PATTERN } from './patterns.js';
import type { InlineTrigger } from './webhook.js';

/**
 * A callback profile as the API takes it, in Kaleyra's shape (SPEC §2, §6):
 * `{title, http_method, url, body, content_type, headers, auth, enc, status}`.
 */

export const PROFILE_STATUSES = ['active', 'auto_disabled', 'disabled'] as const;
export type ProfileStatus = (typeof PROFILE_STATUSES)[number];

/**
 * A webhook or token URL. Credentials in it are refused: fetch will not send a request to
 * such a URL, so every attempt would fail (a callback profile's `auth` is the way to send them).
 */
export const webhookUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
  .refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), {
    error: "must not contain a user name or password (give them as a callback profile's auth)",
  })
  .meta({ format: 'uri', pattern: HTTP_URL_PATTERN, description: 'http or https, without user name or password' });
const httpUrl = webhookUrlSchema.max(2000, 'must be at most 2000 characters');
const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : v);

// Headers the platform sets itself; `authorization` is the profile's own only when it has no `auth`.
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect',
  'content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** A case-insensitive pattern of a name, for engines without flags: host → [hH][oO][sS][tT]. */
const anyCase = (name: string) => [...name].map((ch) => (/[a-z]/i.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))).join('');

/** A POST's media type; it is sent as a header, so line breaks and control characters are refused. */
export const contentTypeSchema = z
  .string()
  .max(200, 'must be at most 200 characters')
  .regex(HEADER_VALUE, 'must not contain line breaks or control characters')
  .regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, 'must be a media type, like application/json')
  .meta({ pattern: MEDIA_TYPE_PATTERN, example: 'application/json' });

const title = z
  .string()
  .trim()
  .min(3, 'must be at least 3 characters')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9 _-]+$/, 'may contain only letters, digits, spaces, hyphens and underscores')
  .meta({ pattern: '^[A-Za-z0-9_-][A-Za-z0-9 _-]*[A-Za-z0-9_-]$', description: 'unique in the account; white space around it is dropped' });

const basicAuthSchema = z
  .object({
    type: z.literal('basic'),
    username: z.string().min(1, 'must not be empty').max(200).regex(/^[^:\r\n]*$/, 'must not contain a colon or a line break'),
    password: z.string().min(1, 'must not be empty').max(500).regex(/^[^\r\n]*$/, 'must not contain a line break'),
  })
  .strict();

const advancedAuthSchema = z
  .object({
    type: z.literal('advanced'),
    url: httpUrl,
    client_id: z.string().min(1, 'must not be empty').max(500),
    client_secret: z.string().min(1, 'must not be empty').max(2000),
    scope: z.string().max(500).nullish(),
    body_format: z.enum(['form', 'json']).nullish(),
    token_field: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a field name, dotted for a nested one').nullish(),
  })
  .strict();

export const profileAuthSchema = z.discriminatedUnion('type', [basicAuthSchema, advancedAuthSchema], {
  error: 'must be {"type": "basic", ...} or {"type": "advanced", ...}',
});

export const encSchema = z
  .object({
    algorithm: z.preprocess(upper, z.enum(ENC_ALGORITHMS, { error: `must be one of ${ENC_ALGORITHMS.join(', ')}` })),
    key: z.string().min(1, 'must not be empty'),
    iv: z.string().min(1, 'must not be empty'),
    fields: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name, like message')).max(50).nullish(),
  })
  .strict()
  // The key and IV lengths encSettingsProblem checks, in bytes (ASCII characters here).
  .meta({
    anyOf: ENC_ALGORITHMS.map((algorithm) => ({
      properties: {
        algorithm: { const: algorithm },
        key: { pattern: `^[\\x20-\\x7e]{${keyBytesFor(algorithm)}}$` },
        iv: { pattern: `^(?:${ivBytesFor(algorithm).map((n) => `[\\x20-\\x7e]{${n}}`).join('|')})$` },
      },
    })),
    description: 'key and iv are UTF-8 bytes: 16, 24 or 32 for the key (AES-128, -192, -256); 16 for a CFB IV, 12 or 16 for GCM',
  });

const headersSchema = z
  .record(
    z.string().regex(HEADER_NAME, 'must be an HTTP header name'),
    z.string().max(2000, 'must be at most 2000 characters').regex(HEADER_VALUE, 'must not contain line breaks or control characters'),
    { error: (iss) => (iss.code === 'invalid_key' ? 'is not an HTTP header name' : undefined) },
  )
  .refine((h) => Object.keys(h).length <= 30, 'may have at most 30 headers')
  .meta({
    maxProperties: 30,
    // Not a header the platform sets, nor authorization (which `auth` would refuse).
    propertyNames: {
      pattern: `^(?!(?:${[...RESERVED_HEADERS, 'authorization'].map(anyCase).join('|')})$)[!#$%&'*+.^_\`|~0-9A-Za-z-]+$`,
    },
  });

/** The fields, each as the create request takes it; PATCH takes any subset. */
const profileFields = z
  .object({
    title,
    http_method: z.preprocess(upper, z.enum(['POST', 'GET'], { error: 'must be POST or GET' })),
    url: httpUrl,
    // A JSON object is a JSON body template; a string is a template of any content type.
    body: z.union([
      z.string().max(10_000, 'must be at most 10000 characters'),
      z.record(z.string(), z.unknown()).refine((o) => JSON.stringify(o).length <= 10_000, 'must be at most 10000 characters as JSON'),
    ], {
      error: 'must be a JSON object or a string template',
    }).nullish(),
    content_type: contentTypeSchema.nullish(),
    headers: headersSchema.nullish(),
    auth: profileAuthSchema.nullish(),
    enc: encSchema.nullish(),
    status: z.enum(['active', 'disabled'], { error: 'must be active or disabled' }).optional(),
  })
  .strict();

/** The rules the superRefine below enforces, as far as JSON Schema can say them (POST and PATCH alike). */
const profileRules = {
  allOf: [
    {
      if: { required: ['http_method'], properties: { http_method: { const: 'GET' } } },
      then: { properties: { body: { type: 'null' }, content_type: { type: 'null' } } },
    },
    {
      if: { required: ['body'], properties: { body: { type: 'object' } } },
      then: { properties: { content_type: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '[jJ][sS][oO][nN]' }] } } },
    },
  ],
};

export const callbackProfileInputSchema = profileFields.superRefine((p, ctx) => {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (p.http_method === 'GET') {
    if (p.body != null) issue(['body'], 'is only sent with http_method POST');
    if (p.content_type != null) issue(['content_type'], 'is only sent with http_method POST');
  }
  if (p.body != null && typeof p.body === 'object' && p.content_type && !/json/i.test(p.content_type)) {
    issue(['content_type'], 'must be a JSON media type when body is a JSON object');
  }
  for (const name of Object.keys(p.headers ?? {})) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) issue(['headers', name], 'is set by the platform');
    else if (lower === 'authorization' && p.auth) issue(['headers', name], 'cannot be given together with auth');
  }
  if (p.enc) {
    const problem = encSettingsProblem(p.enc as EncSettings);
    if (problem) issue(['enc', problem.field], problem.message);
  }
}).meta(profileRules);

/** A schema's JSON Schema (zod's own rendering, refinements' metadata included), to show in the document. */
function documented(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/**
 * PATCH: any subset of the fields. `auth` and `enc` may name only what changes when the type
 * (or algorithm) stays, so a secret need not be sent again; the merged profile is then checked
 * whole, with the create schema.
 */
export const callbackProfilePatchSchema = profileFields
  .extend({
    // The document shows the whole forms (as POST takes them), which a PATCH always takes.
    auth: z.looseObject({ type: z.enum(['basic', 'advanced']).optional() }).nullish()
      .meta({ anyOf: [documented(profileAuthSchema), { type: 'null' }], description: 'whole, or (same type as stored) only the fields that change' }),
    enc: z.looseObject({}).nullish()
      .meta({ anyOf: [documented(encSchema), { type: 'null' }], description: 'whole, or (same algorithm as stored) only the fields that change' }),
  })
  .partial()
  .strict()
  .meta(profileRules);

export type CallbackProfileInput = z.output<typeof callbackProfileInputSchema>;
export type CallbackProfilePatch = z.output<typeof callbackProfilePatchSchema>;

/** The stored form of a profile, in input shape (secrets included). */
export type StoredProfile = {
  title: string;
  http_method: 'POST' | 'GET';
  url: string;
  body: string | Record<string, unknown> | null;
  content_type: string | null;
  headers: Record<string, string>;
  auth: ProfileAuth | null;
  enc: EncSettings | null;
  status: ProfileStatus;
};

/** The raw input a PATCH makes of the stored profile; parse it with callbackProfileInputSchema. */
export function mergeProfilePatch(stored: StoredProfile, patch: CallbackProfilePatch): Record<string, unknown> {
  // The status is the stored one unless the PATCH sets it (auto_disabled is the platform's to set).
  const { status: _status, ...rest } = stored;
  const merged: Record<string, unknown> = { ...rest, ...patch };
  if (patch.auth && stored.auth && (patch.auth.type ?? stored.auth.type) === stored.auth.type) {
    merged.auth = { ...stored.auth, ...patch.auth };
  }
  if (patch.enc && stored.enc) merged.enc = { ...stored.enc, ...patch.enc };
  for (const k of ['body', 'content_type', 'headers', 'auth', 'enc'] as const) if (merged[k] === undefined) merged[k] = null;
  return merged;
}

/** Where a profile's secret may go: a URL's origin (scheme, host, port); the URL itself if it does not parse. */
export const origin = (url: string) => (URL.canParse(url) ? new URL(url).origin : url);

/**
 * A PATCH that points a profile at another host (its `url`, or its auth `url`) must give the
 * auth secret again, or the stored one would be sent to a host its owner never gave it for
 * (someone holding the API key could read a password by moving the URL). Returns the field
 * to name, or null. A new auth type, or `auth: null`, brings no stored secret along.
 */
export function secretNotResupplied(stored: StoredProfile, patch: CallbackProfilePatch): { field: string; message: string } | null {
  const auth = stored.auth;
  if (!auth || patch.auth === null) return null;
  if (patch.auth && (patch.auth.type ?? auth.type) !== auth.type) return null;
  const urlMoved = patch.url !== undefined && origin(patch.url) !== origin(stored.url);
  const given = (patch.auth ?? {}) as Record<string, unknown>;
  if (auth.type === 'basic') {
    if (urlMoved && given.password === undefined) return { field: 'auth.password', message: 'must be given again when url moves to another host' };
    return null;
  }
  const tokenUrlMoved = typeof given.url === 'string' && origin(given.url) !== origin(auth.url);
  if ((urlMoved || tokenUrlMoved) && given.client_secret === undefined) {
    return { field: 'auth.client_secret', message: `must be given again when ${tokenUrlMoved ? 'auth.url' : 'url'} moves to another host` };
  }
  return null;
}

/** What the API shows: secrets (password, client secret, key, IV) are write-only. */
export function publicAuth(auth: ProfileAuth | null) {
  if (!auth) return null;
  if (auth.type === 'basic') return { type: auth.type, username: auth.username };
  return {
    type: auth.type,
    url: auth.url,
    client_id: auth.client_id,
    scope: auth.scope ?? null,
    body_format: auth.body_format ?? 'form',
    token_field: auth.token_field ?? 'access_token',
  };
}

export function publicEnc(enc: EncSettings | null) {
  return enc ? { algorithm: enc.algorithm, fields: enc.fields ?? null } : null;
}

/** Why a delivery through the profile is not sent (it is disabled, by its owner or after failures), or null. */
export function profileSkipReason(p: { status: string; disabled_reason: string | null }): string | null {
  if (p.status === 'active') return null;
  const what = p.status === 'auto_disabled' ? 'auto-disabled' : 'disabled';
  return `callback profile is ${what}${p.disabled_reason ? `: ${p.disabled_reason}` : ''}`;
}

/** The profile as a webhook to render with a message's variables. */
export function profileWebhook(p: Pick<StoredProfile, 'url' | 'http_method' | 'body' | 'content_type'>): InlineTrigger {
  return {
    url: p.url,
    method: p.http_method,
    body: p.body === null ? null : typeof p.body === 'string' ? p.body : JSON.stringify(p.body),
    content_type: p.content_type,
  };
}
