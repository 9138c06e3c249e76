import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { ValidationError } from '../../domain/errors.js';
import { msisdn, requireDlt, route, senderId, templateId } from '../../domain/receive-config.js';
import { PermanentSendError } from '../../outbound/errors.js';
import { SendInProgressError, sendSms, type OutboxRow } from '../../outbound/send.js';
import type { AppEnv } from '../auth.js';
import { requireSenders } from './account.js';
import type { AppDeps } from '../deps.js';
import { ApiError, parseJson, parseQuery } from '../errors.js';
import { page } from '../query.js';

export const sendInput = z
  .object({ to: msisdn, sender: senderId, body: z.string().min(1).max(1600), route: route.nullish(), template_id: templateId.nullish() })
  .strict();

const listQuery = z.object({
  status: z.enum(['queued', 'sending', 'sent', 'stored', 'failed', 'delivered', 'undelivered']).optional(),
  channel: z.enum(['sms', 'email']).optional(),
  log_id: z.string().optional(),
  ...page(50),
});

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
  const app = new Hono<AppEnv>();
  const outbound = { sql, sms: deps.sms };

  app.post('/', async (c) => {
    const account = c.get('account');
    const input = await parseJson(c, sendInput);
    await requireSenders(sql, account.sid, [['sender', input.sender]]);
    requireDlt(account.country, input, { route: 'route', template_id: 'template_id' });
    // A client's Idempotency-Key makes a retried request send once; keys are scoped per account.
    const key = c.req.header('idempotency-key');
    if (key !== undefined && !/^[A-Za-z0-9._:-]{1,100}$/.test(key)) throw new ValidationError('idempotency-key', 'may hold 1 to 100 letters, digits and . _ : -');
    const id = `api-${account.sid}-${key ?? randomUUID()}`;
    let result;
    try {
      result = await sendSms(outbound, {
        id, sid: account.sid, logId: null, purpose: 'api', sender: input.sender, to: input.to, body: input.body,
        route: input.route ?? null, templateId: input.template_id ?? null,
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof SendInProgressError) throw new ApiError(409, 'in_progress', `a send with this Idempotency-Key is in progress; ask again shortly`);
      if (e instanceof PermanentSendError) throw new ApiError(502, 'provider_rejected', `${message} (outbox id ${id})`);
      throw new ApiError(503, 'provider_unavailable', `${message} (outbox id ${id}); retry with the same Idempotency-Key`);
    }
    if (result.outcome === 'opted_out') {
      throw new ApiError(403, 'opted_out', `${input.to} has opted out of sender ${input.sender}`, 'to');
    }
    return c.json(outboxView(result.row!), result.outcome === 'already_sent' ? 200 : 201);
  });

  app.get('/', async (c) => {
    const { sid } = c.get('account');
    const q = parseQuery(c, listQuery);
    const rows = await sql<OutboxRow[]>`
      SELECT * FROM outbox WHERE sid = ${sid}
      ${q.status ? sql`AND status = ${q.status}` : sql``}
      ${q.channel ? sql`AND channel = ${q.channel}` : sql``}
      ${q.log_id ? sql`AND log_id = ${q.log_id}` : sql``}
      ORDER BY seq DESC LIMIT ${q.limit} OFFSET ${q.offset}`;
    return c.json({ data: rows.map(outboxView), limit: q.limit, offset: q.offset });
  });

  return app;
}
