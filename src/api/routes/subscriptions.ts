import { Hono } from 'hono';
import { z } from 'zod';
import { normalizeNumber } from '../../domain/phone.js';
import type { AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { parseQuery } from '../errors.js';
import { page } from '../query.js';

const listQuery = z.object({
  number: z.string().transform(normalizeNumber).optional(),
  status: z.enum(['subscribed', 'unsubscribed']).optional(),
  format: z.enum(['json', 'csv']).default('json'),
  ...page(1000, 100_000),
});

type Row = { msisdn: string; sender_id: string; status: string; via_number: string | null; log_id: string | null; updated_at: Date };

const csvCell = (v: unknown) => {
  const s = v instanceof Date ? v.toISOString() : v == null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * The opt-in / opt-out list: one row per customer and sender ID (`*` = all of the account's),
 * with the message that last changed it; `?number=` is the customer's number.
 */
export function subscriptionRoutes(deps: AppDeps) {
  const { sql } = deps;
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const { sid } = c.get('account');
    const q = parseQuery(c, listQuery);
    const rows = await sql<Row[]>`
      SELECT msisdn, sender_id, status, via_number, log_id, updated_at FROM subscriptions WHERE sid = ${sid}
      ${q.number ? sql`AND msisdn = ${q.number}` : sql``}
      ${q.status ? sql`AND status = ${q.status}` : sql``}
      ORDER BY updated_at DESC, msisdn, sender_id LIMIT ${q.limit} OFFSET ${q.offset}`;
    const data = rows.map((r) => ({ number: r.msisdn, sender_id: r.sender_id, status: r.status, via_number: r.via_number, log_id: r.log_id, updated_at: r.updated_at }));
    if (q.format === 'csv') {
      const header = ['number', 'sender_id', 'status', 'via_number', 'log_id', 'updated_at'] as const;
      const lines = [header.join(','), ...data.map((d) => header.map((h) => csvCell(d[h])).join(','))];
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', 'attachment; filename="subscriptions.csv"');
      return c.body(lines.join('\r\n') + '\r\n');
    }
    return c.json({ data, limit: q.limit, offset: q.offset });
  });

  app.get('/history', async (c) => {
    const { sid } = c.get('account');
    const q = parseQuery(c, listQuery);
    const rows = await sql`
      SELECT msisdn AS number, sender_id, status, via_number, log_id, created_at FROM subscription_events WHERE sid = ${sid}
      ${q.number ? sql`AND msisdn = ${q.number}` : sql``}
      ${q.status ? sql`AND status = ${q.status}` : sql``}
      ORDER BY id DESC LIMIT ${q.limit} OFFSET ${q.offset}`;
    return c.json({ data: rows, limit: q.limit, offset: q.offset });
  });

  return app;
}
