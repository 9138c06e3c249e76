import { z } from 'zod';
import { callbackProfileInputSchema, callbackProfilePatchSchema } from '../domain/callback-profile.js';
import { receiveConfigInputSchema } from '../domain/receive-config.js';
import { inboundInputSchema } from '../ingest/ingest.js';
import { accountInput, assignInput, numberInput, numberPatchInput } from './routes/admin.js';
import { senderIdInput } from './routes/account.js';
import { codecBody } from './routes/codec.js';
import { bulkReplayInput } from './routes/deliveries.js';
import { deliveryReportInput } from './routes/delivery-reports.js';
import { gatewayInput, gatewayPatch } from './routes/gateways.js';
import { steerInput } from './routes/logs.js';
import { sendInput } from './routes/messages.js';
import { standardTextsInput } from './routes/standard-keywords.js';
import { smppConnectionInput, smppConnectionPatch } from './routes/smpp-connections.js';

/** Request schemas come from the same zod schemas the routes validate with, so they cannot drift. */
const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });

const error = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
};

type Op = { summary: string; auth: 'admin' | 'account' | 'ingest' | null; body?: z.ZodType; status: number; params?: string[]; query?: string[]; headers?: string[]; also?: Record<number, string> };

const ops: Record<string, Record<string, Op>> = {
  '/v1/admin/accounts': { post: { summary: 'Create an account; the api_key is shown once', auth: 'admin', body: accountInput, status: 201 } },
  '/v1/admin/numbers': { post: { summary: 'Create a number (long code, short code, shared short code)', auth: 'admin', body: numberInput, status: 201 } },
  '/v1/admin/numbers/{number}': {
    patch: {
      summary: 'Turn standard keywords (STOP, START, HELP, …) on or off for a number', auth: 'admin', body: numberPatchInput, status: 200, params: ['number'],
      also: { 409: 'reserved_keyword: a receive configuration of the number uses a standard keyword' },
    },
  },
  '/v1/admin/numbers/{number}/accounts': { post: { summary: 'Assign a number to an account', auth: 'admin', body: assignInput, status: 201, params: ['number'] } },
  '/v1/admin/gateways': {
    post: { summary: "Create a gateway (SPEC §5): a carrier's own ingest credential; the token is shown once, only its hash is kept", auth: 'admin', body: gatewayInput, status: 201, also: { 409: 'conflict: the name is taken' } },
    get: { summary: 'Gateways (never their tokens), revoked ones included; INGEST_TOKEN is the default gateway and has no entry', auth: 'admin', status: 200 },
  },
  '/v1/admin/gateways/{id}': {
    get: { summary: 'One gateway', auth: 'admin', status: 200, params: ['id'] },
    patch: { summary: "Rename a gateway or change the numbers it may deliver to (null: any)", auth: 'admin', body: gatewayPatch, status: 200, params: ['id'] },
    delete: { summary: 'Revoke a gateway: its token is refused (401) from the next request; the gateway and its messages are kept', auth: 'admin', status: 204, params: ['id'] },
  },
  '/v1/admin/gateways/{id}/revoke': {
    post: { summary: 'Revoke a gateway, answering with it (revoked_at set)', auth: 'admin', status: 200, params: ['id'] },
  },
  '/v1/admin/smpp-connections': {
    post: { summary: 'Create an SMPP bind to an SMSC (SPEC §8); the password is write-only', auth: 'admin', body: smppConnectionInput, status: 201, also: { 409: 'conflict: the name is taken' } },
    get: { summary: 'SMPP connections with their live state (bound, last error, counters)', auth: 'admin', status: 200 },
  },
  '/v1/admin/smpp-connections/{id}': {
    get: { summary: 'An SMPP connection with its live state', auth: 'admin', status: 200, params: ['id'] },
    patch: { summary: 'Change an SMPP connection (a new password, enabled: false unbinds); it rebinds with the change', auth: 'admin', body: smppConnectionPatch, status: 200, params: ['id'] },
    delete: { summary: 'Delete an SMPP connection: unbinds; parts of long MOs it left are still joined and stored', auth: 'admin', status: 204, params: ['id'] },
  },
  '/v1/codec/decode': {
    post: { summary: 'Temporal codec endpoint: decrypt payloads (Temporal CLI --codec-endpoint, --codec-auth)', auth: 'admin', body: codecBody, status: 200, also: { 503: 'payload encryption is off' } },
  },
  '/v1/codec/encode': {
    post: { summary: 'Temporal codec endpoint: encrypt payloads with PAYLOAD_KEY', auth: 'admin', body: codecBody, status: 200, also: { 503: 'payload encryption is off' } },
  },
  '/v1/codec/ui/{capability}/decode': {
    post: { summary: "The codec endpoint for the Temporal UI, which sends no token: the URL's capability, derived from ADMIN_TOKEN, authorizes", auth: null, body: codecBody, status: 200, params: ['capability'], also: { 503: 'payload encryption is off' } },
  },
  '/v1/codec/ui/{capability}/encode': {
    post: { summary: 'As /decode, encrypting', auth: null, body: codecBody, status: 200, params: ['capability'], also: { 503: 'payload encryption is off' } },
  },
  '/v1/{sid}/numbers': { get: { summary: "The account's numbers", auth: 'account', status: 200, params: ['sid'] } },
  '/v1/{sid}/sender-ids': {
    post: { summary: 'Register a sender ID', auth: 'account', body: senderIdInput, status: 201, params: ['sid'] },
    get: { summary: "The account's sender IDs", auth: 'account', status: 200, params: ['sid'] },
  },
  '/v1/{sid}/callback/profiles': {
    post: { summary: 'Create a callback profile; its signing_secret is in the answer', auth: 'account', body: callbackProfileInputSchema, status: 201, params: ['sid'] },
    get: { summary: 'List callback profiles (title: part of the title, any case)', auth: 'account', status: 200, params: ['sid'], query: ['title', 'limit', 'offset'] },
  },
  '/v1/{sid}/callback/profiles/{id}': {
    get: { summary: 'One callback profile (secrets are write-only)', auth: 'account', status: 200, params: ['sid', 'id'] },
    patch: { summary: 'Change some fields of a callback profile; status active re-enables it', auth: 'account', body: callbackProfilePatchSchema, status: 200, params: ['sid', 'id'] },
    delete: { summary: 'Delete a callback profile; 409 profile_in_use while a receive configuration names it', auth: 'account', status: 204, params: ['sid', 'id'] },
  },
  '/v1/{sid}/callback/profiles/{id}/signing-secret': { get: { summary: "The profile's signing secret", auth: 'account', status: 200, params: ['sid', 'id'] } },
  '/v1/{sid}/callback/profiles/{id}/signing-secret/rotate': {
    post: { summary: 'A new signing secret; the previous one keeps signing for 24 hours', auth: 'account', status: 200, params: ['sid', 'id'] },
  },
  '/v1/{sid}/callback/signing-secret': { get: { summary: "The secret that signs the account's inline trigger URLs", auth: 'account', status: 200, params: ['sid'] } },
  '/v1/{sid}/callback/signing-secret/rotate': {
    post: { summary: 'A new secret for inline trigger URLs; the previous one keeps signing for 24 hours', auth: 'account', status: 200, params: ['sid'] },
  },
  '/v1/{sid}/deliveries': {
    get: { summary: 'Webhook deliveries, newest first', auth: 'account', status: 200, params: ['sid'], query: ['status', 'since', 'profile_id', 'log_id', 'limit', 'offset'] },
  },
  '/v1/{sid}/deliveries/{id}': { get: { summary: 'One delivery with its stored request and every attempt', auth: 'account', status: 200, params: ['sid', 'id'] } },
  '/v1/{sid}/deliveries/{id}/replay': { post: { summary: 'Deliver a finished delivery again, with the same delivery id', auth: 'account', status: 202, params: ['sid', 'id'] } },
  '/v1/{sid}/deliveries/replay': {
    post: { summary: 'Replay every failed or skipped delivery created since a time (500 per call)', auth: 'account', body: bulkReplayInput, status: 202, params: ['sid'] },
  },
  '/v1/{sid}/receive-configs': {
    post: {
      summary: 'Create a receive configuration', auth: 'account', body: receiveConfigInputSchema, status: 201, params: ['sid'],
      also: { 409: 'keyword_taken, or reserved_keyword: a standard keyword on a number that answers them itself' },
    },
    get: { summary: 'List receive configurations', auth: 'account', status: 200, params: ['sid'], query: ['number', 'limit', 'offset'] },
  },
  '/v1/{sid}/receive-configs/{id}': {
    get: { summary: 'One receive configuration', auth: 'account', status: 200, params: ['sid', 'id'] },
    put: {
      summary: 'Replace a receive configuration', auth: 'account', body: receiveConfigInputSchema, status: 200, params: ['sid', 'id'],
      also: { 409: 'keyword_taken, or reserved_keyword: a standard keyword on a number that answers them itself' },
    },
    delete: { summary: 'Delete a receive configuration', auth: 'account', status: 204, params: ['sid', 'id'] },
  },
  '/v1/inbound': {
    post: {
      summary: "Ingest one MO message; 202 once stored. A carrier id is unique per gateway: another gateway's id is stored as gw:<gateway id>:<carrier id>",
      auth: 'ingest', body: inboundInputSchema, status: 202,
      also: { 403: 'number_not_allowed: the gateway is limited to other numbers (field recipient)' },
    },
    get: { summary: 'Ingest one MO message from query parameters (token may be given as ?token=)', auth: 'ingest', status: 202, also: { 403: 'number_not_allowed: the gateway is limited to other numbers' }, query: ['id', 'source', 'recipient', 'message', 'operator', 'circle', 'received_at', 'token'] },
  },
  '/v1/delivery-reports': {
    post: {
      summary: "A delivery report for an SMS we sent, named by our outbox id or the provider's message id; 202 also for one naming no SMS we know (matched: false)",
      auth: 'ingest', body: deliveryReportInput, status: 202,
    },
    get: {
      summary: "The same from query parameters, for gateways that call a URL (Kannel's dlr-url: status=%d); the token may be given as ?token=",
      auth: 'ingest', status: 202, query: ['message_id', 'status', 'error_code', 'at', 'token'],
    },
  },
  '/v1/{sid}/logs': { get: { summary: 'MO logs, newest first', auth: 'account', status: 200, params: ['sid'], query: ['outcome', 'number', 'limit', 'offset'] } },
  '/v1/{sid}/logs/{id}': { get: { summary: 'One MO log with its actions and Temporal UI link', auth: 'account', status: 200, params: ['sid', 'id'] } },
  '/v1/{sid}/logs/{id}/scheduled-reply': {
    post: { summary: "Cancel or reschedule (account's local time) a message's scheduled reply; signals its run", auth: 'account', body: steerInput, status: 202, params: ['sid', 'id'] },
  },
  '/v1/{sid}/messages': {
    post: {
      summary: 'Send an SMS; 403 opted_out when the customer opted out of the sender', auth: 'account', body: sendInput, status: 201, params: ['sid'],
      headers: ['Idempotency-Key'],
      also: { 200: 'the send made earlier with this Idempotency-Key', 409: 'in_progress: a send with this Idempotency-Key is under way', 502: 'the provider refused the SMS', 503: 'the provider could not be reached; retry with the same Idempotency-Key' },
    },
    get: { summary: 'The outbox: every SMS and email sent for the account', auth: 'account', status: 200, params: ['sid'], query: ['status', 'channel', 'log_id', 'limit', 'offset'] },
  },
  '/v1/{sid}/standard-keywords': {
    get: { summary: "The standard keywords and the account's confirmation texts (each the default until set)", auth: 'account', status: 200, params: ['sid'] },
    patch: { summary: 'Set confirmation texts; null sends the default again', auth: 'account', body: standardTextsInput, status: 200, params: ['sid'] },
  },
  '/v1/{sid}/subscriptions': {
    get: { summary: 'Opt-in / opt-out list; format=csv exports it', auth: 'account', status: 200, params: ['sid'], query: ['number', 'status', 'format', 'limit', 'offset'] },
  },
  '/v1/{sid}/subscriptions/history': {
    get: { summary: 'Every subscribe and unsubscribe, newest first', auth: 'account', status: 200, params: ['sid'], query: ['number', 'status', 'limit', 'offset'] },
  },
};

export function openApiDocument(extra: Record<string, Record<string, Op>> = {}) {
  const paths: Record<string, unknown> = {};
  for (const [path, methods] of Object.entries({ ...ops, ...extra })) {
    paths[path] = Object.fromEntries(
      Object.entries(methods).map(([method, op]) => [
        method,
        {
          summary: op.summary,
          security: op.auth === 'account' ? [{ apiKey: [] }] : op.auth ? [{ [op.auth === 'admin' ? 'adminToken' : 'ingestToken']: [] }] : [],
          parameters: [
            ...(op.params ?? []).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
            ...(op.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
            ...(op.headers ?? []).map((name) => ({ name, in: 'header', required: false, schema: { type: 'string' } })),
          ],
          ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(op.body) } } } } : {}),
          responses: {
            [op.status]: { description: 'success', ...(op.status === 204 ? {} : { content: { 'application/json': { schema: { type: 'object' } } } }) },
            ...Object.fromEntries(Object.entries(op.also ?? {}).map(([code, description]) => [code, { description }])),
            '4XX': { description: 'bad input, unknown resource or no access', content: { 'application/json': { schema: error } } },
          },
        },
      ]),
    );
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Inbound SMS keyword engine', version: '1', description: 'Receive MO messages on virtual numbers and act on them per keyword.' },
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        ingestToken: { type: 'http', scheme: 'bearer', description: "a gateway's token (POST /v1/admin/gateways), or INGEST_TOKEN for the default gateway" },
        apiKey: { type: 'apiKey', in: 'header', name: 'api-key' },
      },
    },
    paths,
  };
}

export type OpenApiOp = Op;
