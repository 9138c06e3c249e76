import { createRoute, z } from '@hono/zod-openapi';
import { ledgerOf, type LedgerEntry } from '../../consent/ledger.js';
import { normalizeNumber } from '../../domain/phone.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { json, pageFields, Routes, timestamp } from '../openapi.js';
import { page } from '../query.js';

const filters = {
  number: z.string().transform(normalizeNumber).optional().openapi({ description: "the customer's number" }),
  status: z.enum(['subscribed', 'unsubscribed']).optional(),
  ...page(1000, 100_000),
};
const listQuery = z.object({ ...filters, format: z.enum(['json', 'csv']).default('json') });
const historyQuery = z.object(filters);
const ledgerQuery = z.object({ ...page(1000, 100_000), format: z.enum(['json', 'csv']).default('json') });
const customerParam = z.object({
  msisdn: z.string().min(1).max(32).openapi({ param: { name: 'msisdn', in: 'path' }, description: "the customer's number (URL-encode the +)", example: '+919812345678' }),
});

const subscriptionSchema = z
  .object({
    number: z.string(),
    sender_id: z.string().openapi({ description: "* for all of the account's sender IDs" }),
    status: z.enum(['subscribed', 'unsubscribed']),
    via_number: z.string().nullable(),
    log_id: z.string().nullable().openapi({ description: 'the message that last changed it' }),
    updated_at: timestamp,
  })
  .openapi('Subscription');
const eventSchema = subscriptionSchema.omit({ updated_at: true }).extend({ created_at: timestamp }).openapi('SubscriptionEvent');

/** SPEC §5.1: one entry of the consent ledger. */
const ledgerSchema = z
  .object({
    id: z.string().openapi({ description: 'its place in arrival order: changes of a customer apply in this order' }),
    number: z.string(),
    direction: z.enum(['opt_in', 'opt_out']),
    senders: z.array(z.string()).openapi({ description: "the scope: sender IDs, or ['*'] for all of the account's" }),
    cause: z.enum(['mo', 'console', 'api', 'operator']),
    log_id: z.string().nullable().openapi({ description: 'the MO that caused it' }),
    keyword: z.string().nullable(),
    channel: z.enum(['http', 'smpp', 'console', 'api']).nullable().openapi({ description: 'null for an MO stored before the ledger' }),
    via_number: z.string().nullable(),
    status: z.enum(['pending', 'applied', 'skipped']).openapi({ description: 'pending: in force, its run has not recorded it yet' }),
    reason: z.string().nullable().openapi({ description: 'why a skipped change was not applied' }),
    created_at: timestamp,
    applied_at: timestamp.nullable(),
  })
  .openapi('ConsentLedgerEntry');
const LEDGER_COLUMNS = ['id', 'number', 'direction', 'senders', 'cause', 'log_id', 'keyword', 'channel', 'via_number', 'status', 'reason', 'created_at', 'applied_at'] as const;
const ledgerView = (e: LedgerEntry) => ({
  id: String(e.id), number: e.msisdn, direction: e.direction, senders: e.senders, cause: e.cause, log_id: e.log_id, keyword: e.keyword,
  channel: e.channel, via_number: e.via_number, status: e.status, reason: e.reason, created_at: e.created_at, applied_at: e.applied_at,
});

type Row = { msisdn: string; sender_id: string; status: string; via_number: string | null; log_id: string | null; updated_at: Date };

/**
 * One CSV cell. A carrier's number or message id is written as it came, so a cell that a
 * spreadsheet would read as a formula (`=`, `@`, a tab or CR first; `+` or `-` first unless it
 * is a plain number such as an E.164 one) is prefixed with `'` (OWASP's CSV injection advice).
 */
export const csvCell = (v: unknown) => {
  let s = v instanceof Date ? v.toISOString() : v == null ? '' : String(v);
  if (/^[=@\t\r]/.test(s) || (/^[+-]/.test(s) && !/^[+-]?\d+$/.test(s))) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * The opt-in / opt-out list: one row per customer and sender ID (`*` = all of the account's),
 * with the message that last changed it; `?number=` is the customer's number.
 */
export function subscriptionRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes<AppEnv>(accountGuard(sql));

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'listSubscriptions', tags: ['subscriptions'],
    summary: 'Opt-in / opt-out list; format=csv exports it',
    request: { query: listQuery },
    responses: {
      200: {
        description: 'The list, last changed first: JSON, or with format=csv a CSV file with a header row',
        content: {
          'application/json': { schema: z.object({ data: z.array(subscriptionSchema), ...pageFields }) },
          'text/csv': { schema: z.string().openapi({ example: 'number,sender_id,status,via_number,log_id,updated_at\r\n' }) },
        },
      },
    },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
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

  routes.add(createRoute({
    method: 'get', path: '/history', operationId: 'listSubscriptionHistory', tags: ['subscriptions'],
    summary: 'Every subscribe and unsubscribe, newest first',
    request: { query: historyQuery },
    responses: { 200: json(z.object({ data: z.array(eventSchema), ...pageFields }), 'The events') },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const rows = await sql`
      SELECT msisdn AS number, sender_id, status, via_number, log_id, created_at FROM subscription_events WHERE sid = ${sid}
      ${q.number ? sql`AND msisdn = ${q.number}` : sql``}
      ${q.status ? sql`AND status = ${q.status}` : sql``}
      ORDER BY id DESC LIMIT ${q.limit} OFFSET ${q.offset}`;
    return c.json({ data: rows, limit: q.limit, offset: q.offset });
  });

  routes.add(createRoute({
    method: 'get', path: '/ledger', operationId: 'listConsentLedger', tags: ['subscriptions'],
    summary: 'The consent ledger: every opt-in and opt-out, newest first; format=csv exports it',
    request: { query: ledgerQuery },
    responses: {
      200: {
        description: 'The entries: JSON, or with format=csv a CSV file with a header row',
        content: {
          'application/json': { schema: z.object({ data: z.array(ledgerSchema), ...pageFields }) },
          'text/csv': { schema: z.string().openapi({ example: `${LEDGER_COLUMNS.join(',')}\r\n` }) },
        },
      },
    },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const data = (await ledgerOf(sql, sid, q)).map(ledgerView);
    if (q.format === 'csv') {
      const lines = [LEDGER_COLUMNS.join(','), ...data.map((d) => LEDGER_COLUMNS.map((h) => csvCell(h === 'senders' ? d.senders.join(' ') : d[h])).join(','))];
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', 'attachment; filename="consent-ledger.csv"');
      return c.body(lines.join('\r\n') + '\r\n');
    }
    return c.json({ data, limit: q.limit, offset: q.offset });
  });

  routes.add(createRoute({
    method: 'get', path: '/{msisdn}/history', operationId: 'customerConsentHistory', tags: ['subscriptions'],
    summary: "One customer's consent history from the ledger, newest first",
    request: { params: customerParam, query: z.object(page(1000, 100_000)) },
    responses: { 200: json(z.object({ data: z.array(ledgerSchema), ...pageFields }), 'The entries') },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const msisdn = normalizeNumber(c.req.param('msisdn')!); // Hono has decoded it already
    const data = (await ledgerOf(sql, sid, { msisdn, limit: q.limit, offset: q.offset })).map(ledgerView);
    return c.json({ data, limit: q.limit, offset: q.offset });
  });

  return routes.app;
}
