import { createHmac } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { KeyringPayloadCodec } from '../../runtime/payload-codec.js';
import { adminGuard, sameSecret } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { body, errors, json, Routes } from '../openapi.js';

/** Standard base64, padded, as zod's z.base64() takes it. */
const BASE64_PATTERN = '^([0-9a-zA-Z+/]{4})*(([0-9a-zA-Z+/]{2}==)|([0-9a-zA-Z+/]{3}=))?$';
const base64 = z.base64().openapi({ pattern: BASE64_PATTERN });

/** Temporal's codec-server protocol: payloads as proto JSON, bytes in base64. */
const jsonPayload = z.object({
  metadata: z.record(z.string(), base64).nullish(),
  data: base64.nullish(),
});
export const codecBody = z.object({ payloads: z.array(jsonPayload) }).openapi('CodecPayloads');
const codecAnswer = z
  .object({ payloads: z.array(z.object({ metadata: z.record(z.string(), base64), data: base64 })) })
  .openapi('CodecResult');
type JsonPayload = z.infer<typeof jsonPayload>;

const fromJson = ({ metadata, data }: JsonPayload): Payload => ({
  metadata: metadata ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])) : {},
  data: data ? Buffer.from(data, 'base64') : undefined,
});

const toJson = ({ metadata, data }: Payload) => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(data ?? []).toString('base64'),
});

/**
 * The path the Temporal UI of `npm start` decodes through. Its browser code cannot send a bearer
 * token, so the URL carries a secret instead: derived from ADMIN_TOKEN (HMAC-SHA256), so it
 * changes with it and does not reveal it.
 */
export function uiCodecPath(adminToken: string): string {
  return `/v1/codec/ui/${uiCodecCapability(adminToken)}`;
}

function uiCodecCapability(adminToken: string): string {
  return createHmac('sha256', adminToken).update('temporal-ui-codec').digest('hex');
}

/** The origins a browser may call from: the Temporal UI's, as localhost and as 127.0.0.1. */
function uiOrigins(uiUrl: string | undefined): string[] {
  if (!uiUrl) return [];
  const url = new URL(uiUrl);
  const origins = [url.origin];
  for (const [a, b] of [['localhost', '127.0.0.1'], ['127.0.0.1', 'localhost']]) {
    if (url.hostname === a) origins.push(`${url.protocol}//${b}${url.port ? `:${url.port}` : ''}`);
  }
  return origins;
}

/**
 * The codec endpoint (SPEC §9): the Temporal UI and CLI send the encrypted payloads of a run
 * and get them back readable (`/decode`), or the other way (`/encode`, for signals and queries
 * typed in the UI). Operators only: the admin token, or the UI's capability URL.
 */
export function codecRoutes(deps: AppDeps) {
  const app = new OpenAPIHono();
  const ring = deps.config.keys.payload;
  const codec = ring ? new KeyringPayloadCodec(ring) : null;
  const capability = uiCodecCapability(deps.tokens.admin);

  app.use(
    '*',
    cors({
      origin: uiOrigins(deps.config.temporal.uiUrl),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['content-type', 'x-namespace', 'authorization'],
      maxAge: 600,
    }),
  );
  const byCapability: MiddlewareHandler = async (c, next) => {
    if (!sameSecret(c.req.param('capability') ?? '', capability)) throw new ApiError(401, 'unauthorized', 'unknown codec capability');
    await next();
  };
  const byToken = new Routes(adminGuard(deps.tokens.admin));
  const open = new Routes(null);

  const handle = (direction: 'encode' | 'decode') => async (c: Context, valid: { json: () => Promise<z.output<typeof codecBody>> }) => {
    if (!codec) throw new ApiError(503, 'unavailable', 'payload encryption is off (PAYLOAD_KEY is not set)');
    const { payloads } = await valid.json();
    let out: Payload[];
    try {
      out = await codec[direction](payloads.map(fromJson));
    } catch (err) {
      // A key no longer configured, or a payload that fails authentication.
      throw new ApiError(400, 'undecodable', `payloads could not be ${direction}d: ${(err as Error).message}`, 'payloads');
    }
    return c.json({ payloads: out.map(toJson) });
  };
  const responses = {
    200: json(codecAnswer, 'The payloads, decrypted (decode) or encrypted (encode)'),
    ...errors({ 400: 'invalid input, or payloads that no configured PAYLOAD_KEY opens (undecodable)', 503: 'payload encryption is off (PAYLOAD_KEY is not set)' }),
  };
  for (const direction of ['decode', 'encode'] as const) {
    const verb = direction === 'decode' ? 'decrypt payloads' : 'encrypt payloads with PAYLOAD_KEY';
    byToken.add(createRoute({
      method: 'post', path: `/${direction}`, operationId: `codec${direction === 'decode' ? 'Decode' : 'Encode'}`, tags: ['codec'],
      summary: `Temporal codec endpoint: ${verb} (Temporal CLI --codec-endpoint, --codec-auth)`,
      request: { body: body(codecBody) },
      responses,
    }), handle(direction));
    // The Temporal UI sends no token: the URL's capability, derived from ADMIN_TOKEN, authorizes.
    open.add(createRoute({
      method: 'post', path: `/ui/{capability}/${direction}`, operationId: `codecUi${direction === 'decode' ? 'Decode' : 'Encode'}`, tags: ['codec'],
      summary: `The codec endpoint for the Temporal UI (${verb}); the capability in the URL, derived from ADMIN_TOKEN, authorizes`,
      middleware: byCapability,
      request: { params: z.object({ capability: z.string().openapi({ description: 'printed by npm start; HMAC-SHA256 of ADMIN_TOKEN' }) }), body: body(codecBody) },
      responses: { ...responses, ...errors({ 401: 'unknown codec capability' }) },
    }), handle(direction));
  }
  app.route('/', byToken.app);
  app.route('/', open.app);
  return app;
}
