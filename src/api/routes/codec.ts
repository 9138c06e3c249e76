import { createHmac } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { KeyringPayloadCodec } from '../../runtime/payload-codec.js';
import { requireBearer, sameSecret } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, parseJson } from '../errors.js';

/** Temporal's codec-server protocol: payloads as proto JSON, bytes in base64. */
const jsonPayload = z.object({
  metadata: z.record(z.string(), z.base64()).nullish(),
  data: z.base64().nullish(),
});
export const codecBody = z.object({ payloads: z.array(jsonPayload) });
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
  const app = new Hono();
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
  const byToken = requireBearer(deps.tokens.admin, 'operator');
  const byCapability: MiddlewareHandler = async (c, next) => {
    if (!sameSecret(c.req.param('capability') ?? '', capability)) throw new ApiError(401, 'unauthorized', 'unknown codec capability');
    await next();
  };

  const handle = (direction: 'encode' | 'decode') => async (c: Context) => {
    if (!codec) throw new ApiError(503, 'unavailable', 'payload encryption is off (PAYLOAD_KEY is not set)');
    const { payloads } = await parseJson(c, codecBody);
    let out: Payload[];
    try {
      out = await codec[direction](payloads.map(fromJson));
    } catch (err) {
      // A key no longer configured, or a payload that fails authentication.
      throw new ApiError(400, 'undecodable', `payloads could not be ${direction}d: ${(err as Error).message}`, 'payloads');
    }
    return c.json({ payloads: out.map(toJson) });
  };
  for (const direction of ['encode', 'decode'] as const) {
    app.post(`/${direction}`, byToken, handle(direction));
    app.post(`/ui/:capability/${direction}`, byCapability, handle(direction));
  }
  return app;
}
