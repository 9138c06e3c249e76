import { createRoute, z } from '@hono/zod-openapi';
import { senderProblems } from '../../db/sender-ids.js';
import type { Queryable } from '../../db/sql.js';
import { ValidationError } from '../../domain/errors.js';
import { SENDER_ID_REGISTRATION, senderKind, senderNumber } from '../../domain/sender-ids.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { body, errors, json, Routes, timestamp } from '../openapi.js';

export const senderIdInput = z
  .object({
    sender_id: z
      .string()
      .trim()
      .regex(SENDER_ID_REGISTRATION, 'must be 3 to 15 letters or digits')
      .openapi({
        example: 'ACMEIN',
        description: 'white space around it is dropped. With a letter in it: one account\'s only, whatever the case (SPEC §5.2); all digits: one of the account\'s numbers',
      }),
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
    responses: {
      201: json(senderIdView, 'The sender ID'),
      ...errors({
        403: 'sender_not_held: a numeric sender ID must be one of the account\'s numbers',
        409: 'sender_taken: another account holds this sender ID (in any case); or conflict: this account has registered it already',
      }),
    },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const { sender_id: senderId } = await valid.json();
    const numeric = senderKind(senderId) === 'numeric';
    if (numeric) {
      const [held] = await sql`SELECT 1 FROM number_accounts WHERE sid = ${sid} AND number = ${senderNumber(senderId)}`;
      if (!held) throw notHeld('sender_id', senderId);
    }
    // The unique index of migration 019 decides a race of two accounts: the second waits for the
    // first to commit, then inserts nothing.
    const [row] = await sql`
      INSERT INTO sender_ids (sid, sender_id) VALUES (${sid}, ${senderId})
      ON CONFLICT DO NOTHING RETURNING sender_id, created_at`;
    if (row) return c.json(row, 201);
    // The index's own expression and predicate, written out, so that the lookup uses it.
    const [holder] = numeric
      ? [{ sid, sender_id: senderId }]
      : await sql<{ sid: string; sender_id: string }[]>`
          SELECT sid, sender_id FROM sender_ids WHERE upper(sender_id) = upper(${senderId}) AND sender_id !~ '^[0-9]+$'`;
    if (holder?.sid === sid) throw new ApiError(409, 'conflict', `sender ID ${holder.sender_id} is registered already`, 'sender_id');
    throw new ApiError(409, 'sender_taken', `sender ID ${senderId} belongs to another account`, 'sender_id');
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

const notHeld = (field: string, sender: string) =>
  new ValidationError(field, `"${sender}" is not a number of this account: a numeric sender must be one of its numbers`, 'sender_not_held', 403);

/**
 * Every named sender must be the account's (SPEC §5.2, db/sender-ids.ts): [field, sender]
 * pairs. An alphanumeric one not registered to it is a 400; a numeric one it does not hold is
 * a 403 `sender_not_held`, even if it was registered before ownership was checked.
 */
export async function requireSenders(sql: Queryable, sid: string, senders: [field: string, sender: string][]): Promise<void> {
  if (senders.length === 0) return;
  const problems = await senderProblems(sql, sid, senders.map((s) => s[1]));
  for (const [field, sender] of senders) {
    const problem = problems.get(sender);
    if (problem === 'not_held') throw notHeld(field, sender);
    if (problem) throw new ValidationError(field, `"${sender}" is not a registered sender ID of this account`);
  }
}
