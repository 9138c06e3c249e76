import { Hono } from 'hono';
import { z } from 'zod';
import type { Queryable } from '../../db/sql.js';
import { ValidationError } from '../../domain/errors.js';
import type { AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, parseJson } from '../errors.js';

export const senderIdInput = z
  .object({ sender_id: z.string().trim().regex(/^[A-Za-z0-9]{3,15}$/, 'must be 3 to 15 letters or digits') })
  .strict();

/** The account's numbers and sender IDs. */
export function accountRoutes(deps: AppDeps) {
  const { sql } = deps;
  const app = new Hono<AppEnv>();

  app.get('/numbers', async (c) => {
    const { sid } = c.get('account');
    const rows = await sql`
      SELECT n.number, n.kind, n.shared, n.standard_keywords, na.assigned_at
      FROM number_accounts na JOIN numbers n ON n.number = na.number
      WHERE na.sid = ${sid} ORDER BY n.number`;
    return c.json({ data: rows });
  });

  app.post('/sender-ids', async (c) => {
    const { sid } = c.get('account');
    const input = await parseJson(c, senderIdInput);
    const [row] = await sql`
      INSERT INTO sender_ids (sid, sender_id) VALUES (${sid}, ${input.sender_id})
      ON CONFLICT DO NOTHING RETURNING sender_id, created_at`;
    if (!row) throw new ApiError(409, 'conflict', `sender ID ${input.sender_id} is registered already`, 'sender_id');
    return c.json(row, 201);
  });

  app.get('/sender-ids', async (c) => {
    const { sid } = c.get('account');
    const rows = await sql`SELECT sender_id, created_at FROM sender_ids WHERE sid = ${sid} ORDER BY sender_id`;
    return c.json({ data: rows });
  });

  return app;
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
