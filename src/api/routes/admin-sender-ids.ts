import { createRoute, z } from '@hono/zod-openapi';
import { ValidationError } from '../../domain/errors.js';
import { ALPHANUMERIC_SENDER_PATTERN, senderKind, senderNumber } from '../../domain/sender-ids.js';
import { adminGuard } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { body, errors, json, pageFields, Routes, timestamp } from '../openapi.js';
import { page } from '../query.js';

type Row = { sender_id: string; sid: string; created_at: Date };

const senderIdAdminView = z
  .object({
    sender_id: z.string(),
    sid: z.string().openapi({ description: 'the account that holds it' }),
    kind: z.enum(['alphanumeric', 'numeric']),
    held: z.boolean().nullable().openapi({
      description: 'numeric: whether the account holds that number today (if not, it cannot send from it); alphanumeric: null',
    }),
    created_at: timestamp.openapi({ description: 'when it was registered (a reassignment keeps it)' }),
  })
  .openapi('SenderIdOwnership');

const listQuery = z.object({
  sid: z.string().optional().openapi({ description: "one account's only" }),
  sender_id: z.string().optional().openapi({ description: 'this sender ID only, in any case' }),
  ...page(100),
});

const senderParam = z.object({
  sender_id: z.string().openapi({
    pattern: ALPHANUMERIC_SENDER_PATTERN, example: 'ACMEBANK',
    description: 'an alphanumeric sender ID, in any case (a numeric sender follows its number: assign the number instead)',
  }),
});

export const reassignInput = z.object({ sid: z.string().min(1).openapi({ description: 'the account to hold it from now on' }) }).strict();

/**
 * `/v1/admin/sender-ids` (SPEC §5.2): which account holds which sender ID, and moving one to
 * another account. The old holder can send with it no more from that moment (its send API
 * answers 400, its configurations cannot be saved with it).
 */
export function adminSenderIdRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes(adminGuard(deps.tokens.admin));

  /** Each registration with its kind and, for a numeric one, whether its account holds the number. */
  async function views(rows: Row[]) {
    const numeric = rows.filter((r) => senderKind(r.sender_id) === 'numeric');
    const held = new Set(numeric.length === 0 ? [] : (await sql<{ sid: string; number: string }[]>`
      SELECT sid, number FROM number_accounts WHERE number IN ${sql([...new Set(numeric.map((r) => senderNumber(r.sender_id)))])}`)
      .map((r) => `${r.sid} ${r.number}`));
    return rows.map((r) => {
      const kind = senderKind(r.sender_id);
      return { sender_id: r.sender_id, sid: r.sid, kind, held: kind === 'numeric' ? held.has(`${r.sid} ${senderNumber(r.sender_id)}`) : null, created_at: r.created_at };
    });
  }

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'listAllSenderIds', tags: ['admin'],
    summary: "Every account's sender IDs, with the account that holds each, by sender ID",
    request: { query: listQuery },
    responses: { 200: json(z.object({ data: z.array(senderIdAdminView), ...pageFields }), 'The sender IDs') },
  }), async (c, valid) => {
    const q = valid.query();
    const rows = await sql<Row[]>`
      SELECT sender_id, sid, created_at FROM sender_ids
      WHERE true
      ${q.sid !== undefined ? sql`AND sid = ${q.sid}` : sql``}
      ${q.sender_id !== undefined ? sql`AND upper(sender_id) = upper(${q.sender_id.trim()})` : sql``}
      ORDER BY upper(sender_id), sid LIMIT ${q.limit} OFFSET ${q.offset}`;
    return c.json({ data: await views(rows), limit: q.limit, offset: q.offset });
  });

  routes.add(createRoute({
    method: 'patch', path: '/{sender_id}', operationId: 'reassignSenderId', tags: ['admin'],
    summary: 'Move an alphanumeric sender ID to another account (to its holder: harmless)',
    request: { params: senderParam, body: body(reassignInput) },
    responses: {
      200: json(senderIdAdminView.extend({ previous_sid: z.string() }).openapi('SenderIdReassigned'), 'The sender ID, with the account that held it before'),
      ...errors({ 400: 'a numeric sender ID (it follows its number), or a body that breaks a rule', 404: 'no such sender ID, or no such account (sid)' }),
    },
  }), async (c, valid) => {
    const senderId = c.req.param('sender_id')!.trim();
    if (senderKind(senderId) === 'numeric') {
      throw new ValidationError('sender_id', 'is a number: a numeric sender follows its number (POST /v1/admin/numbers/{number}/accounts)');
    }
    const input = await valid.json();
    const [account] = await sql`SELECT sid FROM accounts WHERE sid = ${input.sid}`;
    if (!account) throw notFound(`account ${input.sid}`);
    // The unique index's expression and predicate: at most one row, locked by the UPDATE.
    const [row] = await sql<(Row & { previous_sid: string })[]>`
      UPDATE sender_ids s SET sid = ${input.sid}
      FROM (SELECT sid, sender_id FROM sender_ids WHERE upper(sender_id) = upper(${senderId}) AND sender_id !~ '^[0-9]+$' FOR UPDATE) old
      WHERE s.sid = old.sid AND s.sender_id = old.sender_id
      RETURNING s.sender_id, s.sid, s.created_at, old.sid AS previous_sid`;
    if (!row) throw notFound(`sender ID ${senderId}`);
    const [view] = await views([row]);
    return c.json({ ...view!, previous_sid: row.previous_sid });
  });

  return routes.app;
}
