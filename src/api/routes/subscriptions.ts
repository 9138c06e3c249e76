import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ledgerOf, type LedgerEntry } from '../../consent/ledger.js';
import { normalizeNumber } from '../../domain/phone.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { cursorPageFields, json, Routes, timestamp } from '../openapi.js';
import { CURSOR_TIME_FORMAT, cursorPage, decodeCursor, keysetPage } from '../query.js';

const filters = {
  number: z.string().transform(normalizeNumber).optional().openapi({ description: "the customer's number" }),
  status: z.enum(['subscribed', 'unsubscribed']).optional(),
  ...cursorPage(1000, 100_000),
};
const csvNote = 'json, or csv: a CSV file (its rows only: a next page is asked for with offset, or with cursor from a JSON page)';
const listQuery = z.object({ ...filters, format: z.enum(['json', 'csv']).default('json').openapi({ description: csvNote }) });
const historyQuery = z.object(filters);
const ledgerQuery = z.object({ ...cursorPage(1000, 100_000), format: z.enum(['json', 'csv']).default('json').openapi({ description: csvNote }) });
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

type Row = { msisdn: string; sender_id: string; status: string; via_number: string | null; log_id: string | null; updated_at: Date; cursor_at: string };

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

/** A CSV download: a header row, then one row per record, each cell through csvCell. */
function csvFile<K extends string>(c: Context, filename: string, header: readonly K[], rows: Record<K, unknown>[]): Response {
  const lines = [header.join(','), ...rows.map((r) => header.map((h) => csvCell(r[h])).join(','))];
  c.header('content-type', 'text/csv; charset=utf-8');
  c.header('content-disposition', `attachment; filename="${filename}"`);
  return c.body(lines.join('\r\n') + '\r\n');
}

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
          'application/json': { schema: z.object({ data: z.array(subscriptionSchema), ...cursorPageFields }) },
          'text/csv': { schema: z.string().openapi({ example: 'number,sender_id,status,via_number,log_id,updated_at\r\n' }) },
        },
      },
    },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const after = q.cursor ? decodeCursor('subscriptions', q.cursor, ['time', 'text', 'text'] as const) : null;
    // The sort key is (updated_at DESC, msisdn, sender_id): after the cursor's row come those
    // changed earlier, or at the same instant and later in (msisdn, sender_id).
    const page = keysetPage(await sql<Row[]>`
      SELECT msisdn, sender_id, status, via_number, log_id, updated_at,
             to_char(updated_at AT TIME ZONE 'UTC', ${CURSOR_TIME_FORMAT}) AS cursor_at
      FROM subscriptions WHERE sid = ${sid}
      ${q.number ? sql`AND msisdn = ${q.number}` : sql``}
      ${q.status ? sql`AND status = ${q.status}` : sql``}
      ${after ? sql`AND updated_at <= ${after[0]}::text::timestamptz AND (updated_at < ${after[0]}::text::timestamptz OR (msisdn, sender_id) > (${after[1]}, ${after[2]}))` : sql``}
      ORDER BY updated_at DESC, msisdn, sender_id LIMIT ${q.limit + 1} OFFSET ${q.offset}`, q.limit, 'subscriptions', (r) => [r.cursor_at, r.msisdn, r.sender_id]);
    const rows = page.rows;
    const data = rows.map((r) => ({ number: r.msisdn, sender_id: r.sender_id, status: r.status, via_number: r.via_number, log_id: r.log_id, updated_at: r.updated_at }));
    if (q.format === 'csv') return csvFile(c, 'subscriptions.csv', ['number', 'sender_id', 'status', 'via_number', 'log_id', 'updated_at'], data);
    return c.json({ data, limit: q.limit, offset: q.offset, next_cursor: page.next_cursor });
  });

  routes.add(createRoute({
    method: 'get', path: '/history', operationId: 'listSubscriptionHistory', tags: ['subscriptions'],
    summary: 'Every subscribe and unsubscribe, newest first',
    request: { query: historyQuery },
    responses: { 200: json(z.object({ data: z.array(eventSchema), ...cursorPageFields }), 'The events') },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const [before] = q.cursor ? decodeCursor('subscriptions/history', q.cursor, ['id'] as const) : [null];
    const rows = await sql<{ id: string; number: string; sender_id: string; status: string; via_number: string | null; log_id: string | null; created_at: Date }[]>`
      SELECT id, msisdn AS number, sender_id, status, via_number, log_id, created_at FROM subscription_events WHERE sid = ${sid}
      ${q.number ? sql`AND msisdn = ${q.number}` : sql``}
      ${q.status ? sql`AND status = ${q.status}` : sql``}
      ${before ? sql`AND id < ${before}` : sql``}
      ORDER BY id DESC LIMIT ${q.limit + 1} OFFSET ${q.offset}`;
    const page = keysetPage(rows, q.limit, 'subscriptions/history', (r) => [r.id]);
    return c.json({ data: page.rows.map(({ id: _id, ...event }) => event), limit: q.limit, offset: q.offset, next_cursor: page.next_cursor });
  });

  routes.add(createRoute({
    method: 'get', path: '/ledger', operationId: 'listConsentLedger', tags: ['subscriptions'],
    summary: 'The consent ledger: every opt-in and opt-out, newest first; format=csv exports it',
    request: { query: ledgerQuery },
    responses: {
      200: {
        description: 'The entries: JSON, or with format=csv a CSV file with a header row',
        content: {
          'application/json': { schema: z.object({ data: z.array(ledgerSchema), ...cursorPageFields }) },
          'text/csv': { schema: z.string().openapi({ example: `${LEDGER_COLUMNS.join(',')}\r\n` }) },
        },
      },
    },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const [before] = q.cursor ? decodeCursor('ledger', q.cursor, ['id'] as const) : [null];
    const page = keysetPage(await ledgerOf(sql, sid, { before, limit: q.limit + 1, offset: q.offset }), q.limit, 'ledger', (e) => [String(e.id)]);
    const data = page.rows.map(ledgerView);
    if (q.format === 'csv') return csvFile(c, 'consent-ledger.csv', LEDGER_COLUMNS, data.map((d) => ({ ...d, senders: d.senders.join(' ') })));
    return c.json({ data, limit: q.limit, offset: q.offset, next_cursor: page.next_cursor });
  });

  routes.add(createRoute({
    method: 'get', path: '/{msisdn}/history', operationId: 'customerConsentHistory', tags: ['subscriptions'],
    summary: "One customer's consent history from the ledger, newest first",
    request: { params: customerParam, query: z.object(cursorPage(1000, 100_000)) },
    responses: { 200: json(z.object({ data: z.array(ledgerSchema), ...cursorPageFields }), 'The entries') },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const q = valid.query();
    const msisdn = normalizeNumber(c.req.param('msisdn')!); // Hono has decoded it already
    const [before] = q.cursor ? decodeCursor('ledger', q.cursor, ['id'] as const) : [null];
    const page = keysetPage(await ledgerOf(sql, sid, { msisdn, before, limit: q.limit + 1, offset: q.offset }), q.limit, 'ledger', (e) => [String(e.id)]);
    return c.json({ data: page.rows.map(ledgerView), limit: q.limit, offset: q.offset, next_cursor: page.next_cursor });
  });

  return routes.app;
}
