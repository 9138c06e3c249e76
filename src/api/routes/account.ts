import { createRoute, z } from '@hono/zod-openapi';
import type { Queryable } from '../../db/sql.js';
import { ValidationError } from '../../domain/errors.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { body, errors, json, Routes, timestamp } from '../openapi.js';

export const senderIdInput = z
  .object({
    sender_id: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9]{3,15}$/, 'must be 3 to 15 letters or digits')
      .openapi({ example: 'ACMEIN', description: 'white space around it is dropped' }),
  })
  .strict();

const senderIdView = z.object({ sender_id: z.string(), created_at: timestamp }).openapi('SenderId');
const accountNumber = z
  .object({
    number: z.string(),
    kind: z.enum(['long_code', 'short_code']),
    shared: z.boolean(),
    standard_keywords: z.boolean(),
    assigned_at: timestamp,
  })
  .openapi('AccountNumber');

/** The account's numbers and sender IDs. */
export function accountRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes<AppEnv>(accountGuard(sql));

  routes.add(createRoute({
    method: 'get', path: '/numbers', operationId: 'listNumbers', tags: ['account'], summary: "The account's numbers",
    responses: { 200: json(z.object({ data: z.array(accountNumber) }), 'The numbers, in order') },
  }), async (c) => {
    const { sid } = c.get('account');
    const rows = await sql`
      SELECT n.number, n.kind, n.shared, n.standard_keywords, na.assigned_at
      FROM number_accounts na JOIN numbers n ON n.number = na.number
      WHERE na.sid = ${sid} ORDER BY n.number`;
    return c.json({ data: rows });
  });

  routes.add(createRoute({
    method: 'post', path: '/sender-ids', operationId: 'createSenderId', tags: ['account'], summary: 'Register a sender ID',
    request: { body: body(senderIdInput) },
    responses: { 201: json(senderIdView, 'The sender ID'), ...errors({ 409: 'conflict: registered already' }) },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const input = await valid.json();
    const [row] = await sql`
      INSERT INTO sender_ids (sid, sender_id) VALUES (${sid}, ${input.sender_id})
      ON CONFLICT DO NOTHING RETURNING sender_id, created_at`;
    if (!row) throw new ApiError(409, 'conflict', `sender ID ${input.sender_id} is registered already`, 'sender_id');
    return c.json(row, 201);
  });

  routes.add(createRoute({
    method: 'get', path: '/sender-ids', operationId: 'listSenderIds', tags: ['account'], summary: "The account's sender IDs",
    responses: { 200: json(z.object({ data: z.array(senderIdView) }), 'The sender IDs, in order') },
  }), async (c) => {
    const { sid } = c.get('account');
    const rows = await sql`SELECT sender_id, created_at FROM sender_ids WHERE sid = ${sid} ORDER BY sender_id`;
    return c.json({ data: rows });
  });

  return routes.app;
}

/** Every named sender ID must be registered to the account: [field, sender] pairs, one query. */
export async function requireSenders(sql: Queryable, sid: string, senders: [field: string, sender: string][]): Promise<void> {
  if (senders.length === 0) return;
  const known = new Set((await sql<{ sender_id: string }[]>`
    SELECT sender_id FROM sender_ids WHERE sid = ${sid} AND sender_id IN ${sql(senders.map((s) => s[1]))}`).map((r) => r.sender_id));
  for (const [field, sender] of senders) {
    if (!known.has(sender)) throw new ValidationError(field, `"${sender}" is not a registered sender ID of this account`);
  }
}
