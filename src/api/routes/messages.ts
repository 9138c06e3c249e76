import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { ValidationError } from '../../domain/errors.js';
import { msisdn, requireDlt, route, senderId, templateId } from '../../domain/receive-config.js';
import { PermanentSendError } from '../../outbound/errors.js';
import { DONE, SendInProgressError, sendSms, type OutboxRow } from '../../outbound/send.js';
import { accountGuard, type AppEnv } from '../auth.js';
import { requireSenders } from './account.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { dailyLimitReached, returnDailySend, takeDailySend } from '../limits.js';
import { body, cursorPageFields, errors, json, Routes, timestamp } from '../openapi.js';
import { cursorPage, decodeCursor, keysetPage } from '../query.js';

export const sendInput = z
  .object({ to: msisdn, sender: senderId, body: z.string().min(1).max(1600), route: route.nullish(), template_id: templateId.nullish() })
  .strict();

const listQuery = z.object({
  status: z.enum(['queued', 'sending', 'sent', 'stored', 'failed', 'delivered', 'undelivered']).optional(),
  channel: z.enum(['sms', 'email']).optional(),
  log_id: z.string().optional(),
  ...cursorPage(50),
});

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,100}$/;

const outboxSchema = z
  .object({
    id: z.string().openapi({ description: 'the idempotency key the SMS was sent under' }),
    log_id: z.string().nullable(),
    channel: z.enum(['sms', 'email']),
    purpose: z.enum(['auto_reply', 'expiry_message', 'forward_sms', 'forward_email', 'api']),
    sender: z.string(),
    to: z.string(),
    subject: z.string().nullable(),
    body: z.string(),
    route: z.string().nullable(),
    template_id: z.string().nullable(),
    provider: z.string(),
    status: z.enum(['queued', 'sending', 'sent', 'stored', 'failed', 'delivered', 'undelivered']),
    attempts: z.number().int(),
    provider_message_id: z.string().nullable(),
    provider_response: z.unknown().openapi({ description: "the provider's answer as it came (JSON), or null" }),
    last_error: z.string().nullable(),
    delivery_status: z.string().nullable(),
    delivery_error_code: z.string().nullable(),
    delivery_reported_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('OutboxMessage');

export function outboxView(r: OutboxRow) {
  return {
    id: r.id, log_id: r.log_id, channel: r.channel, purpose: r.purpose, sender: r.sender, to: r.recipient,
    subject: r.subject, body: r.body, route: r.route, template_id: r.template_id, provider: r.provider,
    status: r.status, attempts: r.attempts, provider_message_id: r.provider_message_id,
    provider_response: r.provider_response, last_error: r.last_error, delivery_status: r.delivery_status,
    delivery_error_code: r.delivery_error_code, delivery_reported_at: r.delivery_reported_at,
    created_at: r.created_at, updated_at: r.updated_at,
  };
}

/** The send API and the outbox (SPEC §6, §7). */
export function messageRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes<AppEnv>(accountGuard(sql));
  const outbound = { sql, sms: deps.sms };

  routes.add(createRoute({
    method: 'post', path: '/', operationId: 'sendMessage', tags: ['messages'],
    summary: "Send an SMS; 403 opted_out when the customer opted out of the sender, 429 daily_limit past the account's daily_limit",
    request: {
      headers: z.object({
        'Idempotency-Key': z.string().regex(IDEMPOTENCY_KEY).optional().openapi({
          description: 'a retry with the same key sends once and answers 200 with the first send; keys are per account',
        }),
      }),
      body: body(sendInput),
    },
    responses: {
      201: json(outboxSchema, 'Sent (or handed to the provider)'),
      200: json(outboxSchema, 'The send made earlier with this Idempotency-Key'),
      ...errors({
        403: "opted_out: the customer opted out of this sender (field to); or sender_not_held: a numeric sender that is none of the account's numbers (field sender)",
        409: 'in_progress: a send with this Idempotency-Key is under way; ask again shortly',
        429: "daily_limit: the account's daily_limit of SMS for the UTC day is reached (Retry-After: seconds to the next UTC midnight); throttled: too many failed credentials from this address",
        502: 'provider_rejected: the provider refused the SMS',
        503: 'provider_unavailable: the provider could not be reached; retry with the same Idempotency-Key',
      }),
    },
  }), async (c, valid) => {
    const account = c.get('account');
    const input = await valid.json();
    await requireSenders(sql, account.sid, [['sender', input.sender]]);
    requireDlt(account.country, input, { route: 'route', template_id: 'template_id' });
    // A client's Idempotency-Key makes a retried request send once; keys are scoped per account.
    const key = c.req.header('idempotency-key');
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new ValidationError('idempotency-key', 'may hold 1 to 100 letters, digits and . _ : -');
    const id = `api-${account.sid}-${key ?? randomUUID()}`;
    // SPEC §5.2: a new send takes one of the day's daily_limit (a retry of a finished one does
    // not, it sends nothing), and gives it back unless it comes to a new SMS.
    const now = new Date();
    const [earlier] = key === undefined ? [] : await sql<{ status: string }[]>`SELECT status FROM outbox WHERE id = ${id}`;
    const counted = !(earlier && DONE.has(earlier.status));
    if (counted && !(await takeDailySend(sql, account.sid, now))) throw dailyLimitReached(now);
    let result;
    try {
      result = await sendSms(outbound, {
        id, sid: account.sid, logId: null, purpose: 'api', sender: input.sender, to: input.to, body: input.body,
        route: input.route ?? null, templateId: input.template_id ?? null,
      });
    } catch (e) {
      if (counted) await returnDailySend(sql, account.sid, now);
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof SendInProgressError) throw new ApiError(409, 'in_progress', `a send with this Idempotency-Key is in progress; ask again shortly`);
      if (e instanceof PermanentSendError) throw new ApiError(502, 'provider_rejected', `${message} (outbox id ${id})`);
      throw new ApiError(503, 'provider_unavailable', `${message} (outbox id ${id}); retry with the same Idempotency-Key`);
    }
    if (counted && result.outcome !== 'sent') await returnDailySend(sql, account.sid, now);
    if (result.outcome === 'opted_out') {
      throw new ApiError(403, 'opted_out', `${input.to} has opted out of sender ${input.sender}`, 'to');
    }
    return c.json(outboxView(result.row!), result.outcome === 'already_sent' ? 200 : 201);
  });

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'listMessages', tags: ['messages'],
    summary: 'The outbox: every SMS and email sent for the account, newest first',
    request: { query: listQuery },
    responses: { 200: json(z.object({ data: z.array(outboxSchema), ...cursorPageFields }), 'The messages') },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const [before] = q.cursor ? decodeCursor('messages', q.cursor, ['id'] as const) : [null];
    const rows = await sql<(OutboxRow & { seq: string })[]>`
      SELECT * FROM outbox WHERE sid = ${sid}
      ${q.status ? sql`AND status = ${q.status}` : sql``}
      ${q.channel ? sql`AND channel = ${q.channel}` : sql``}
      ${q.log_id ? sql`AND log_id = ${q.log_id}` : sql``}
      ${before ? sql`AND seq < ${before}` : sql``}
      ORDER BY seq DESC LIMIT ${q.limit + 1} OFFSET ${q.offset}`;
    const page = keysetPage(rows, q.limit, 'messages', (r) => [r.seq]);
    return c.json({ data: page.rows.map(outboxView), limit: q.limit, offset: q.offset, next_cursor: page.next_cursor });
  });

  return routes.app;
}
