import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { isTemporalUnreachable, temporalUiUrl } from '../../runtime/temporal.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ValidationError } from '../../domain/errors.js';
import { localDateTime } from '../../domain/receive-config.js';
import { parseLocalDateTime } from '../../domain/time.js';
import { normalizeNumber } from '../../domain/phone.js';
import { cancelScheduledReplySignal, rescheduleReplySignal } from '../../workflows/definitions.js';
import { ApiError, notFound } from '../errors.js';
import { body, cursorPageFields, errors, json, Routes, timestamp } from '../openapi.js';
import { cursorPage, decodeCursor, instant, keysetPage, toInstant } from '../query.js';
import { normalizeKeyword } from '../../domain/keywords.js';

type LogRow = {
  id: string; seq: string; source: string; recipient: string; message: string; operator: string | null; circle: string | null;
  keyword: string | null; outcome: string; config_id: string | null; workflow_id: string | null;
  dispatch_state: string; run_status: string | null; received_at: Date; created_at: Date; dispatch_error: string | null;
  ingest_notes: string[];
};
type ActionRow = { log_id: string; type: string; status: string; attempts: number; last_error: string | null; detail: Record<string, unknown>; updated_at: Date };

const listQuery = z.object({
  outcome: z.enum(['keyword', 'expired', 'default', 'standard', 'no_match']).optional(),
  number: z.string().transform(normalizeNumber).optional().openapi({ description: 'the recipient: one of the account\'s numbers' }),
  keyword: z.string().max(200).optional().openapi({ description: 'the keyword matched, any case' }),
  since: instant.optional().openapi({ description: 'received at or after (ISO 8601, or YYYY-MM-DD HH:MM:SS on the account\'s clock)' }),
  until: instant.optional().openapi({ description: 'received before' }),
  ...cursorPage(50),
});

/**
 * How many messages a window probe counts at most (`received_at` index, index only): a
 * window with fewer is read whole and sorted; see listLogs.
 */
const WINDOW_PROBE = 10_000;

const logSchema = z
  .object({
    id: z.string(),
    source: z.string(),
    recipient: z.string(),
    message: z.string(),
    operator: z.string().nullable(),
    circle: z.string().nullable(),
    keyword: z.string().nullable(),
    outcome: z.enum(['keyword', 'expired', 'default', 'standard', 'no_match', 'unknown_number']),
    config_id: z.uuid().nullable(),
    workflow_id: z.string().nullable(),
    run_status: z.string().nullable().openapi({ description: 'queued, started, running, completed, …; null when nothing runs' }),
    temporal_ui_url: z.string().nullable(),
    start_error: z.string().nullable().openapi({ description: 'why Temporal refused to start the run, while it is queued' }),
    received_at: timestamp,
    notes: z.array(z.string()).openapi({ description: "what was odd about the carrier's metadata, and what ingest did about it (SPEC §5)" }),
    actions: z.array(
      z
        .looseObject({
          type: z.string(),
          status: z.string(),
          attempts: z.number().int(),
          last_error: z.string().nullable(),
          updated_at: timestamp,
        })
        .openapi({ description: "each action's own details (sms ids, delivery status, …) beside these" }),
    ),
  })
  .openapi('MoLog');

const steered = z
  .union([
    z.object({ log_id: z.string(), action: z.literal('cancel') }),
    z.object({ log_id: z.string(), action: z.literal('reschedule'), at: z.string(), at_utc: timestamp }),
  ])
  .openapi('ScheduledReplyChange');

const idParam = z.object({ id: z.string().min(1).openapi({ description: "the message's id" }) });

/** MO logs: what arrived, what matched, and what each action did (SPEC §6). */
export function logRoutes(deps: AppDeps) {
  const { sql, config } = deps;
  const routes = new Routes<AppEnv>(accountGuard(sql));

  const view = (r: LogRow, actions: ActionRow[]) => ({
    id: r.id,
    source: r.source,
    recipient: r.recipient,
    message: r.message,
    operator: r.operator,
    circle: r.circle,
    keyword: r.keyword,
    outcome: r.outcome,
    config_id: r.config_id,
    workflow_id: r.workflow_id,
    run_status: r.workflow_id ? (r.dispatch_state === 'pending' ? 'queued' : (r.run_status ?? 'started')) : null,
    temporal_ui_url: temporalUiUrl(config, r.workflow_id),
    // why Temporal refused to start the run, while it is still queued
    start_error: r.dispatch_state === 'pending' ? r.dispatch_error : null,
    received_at: r.received_at,
    // what was odd about the carrier's metadata, and what ingest did about it (SPEC §5)
    notes: r.ingest_notes,
    actions: actions
      .filter((a) => a.log_id === r.id)
      .map((a) => ({ type: a.type, status: a.status, attempts: a.attempts, last_error: a.last_error, ...a.detail, updated_at: a.updated_at })),
  });

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'listLogs', tags: ['logs'], summary: 'MO logs, newest first',
    request: { query: listQuery },
    responses: { 200: json(z.object({ data: z.array(logSchema), ...cursorPageFields }), 'The logs') },
  }), async (c, valid) => {
    const { sid, timezone } = c.get('account');
    const q = valid.query();
    const since = q.since ? toInstant('since', q.since, timezone) : null;
    const until = q.until ? toInstant('until', q.until, timezone) : null;
    const [before] = q.cursor ? decodeCursor('logs', q.cursor, ['id'] as const) : [null];
    const inWindow = sql`
      ${since ? sql`AND received_at >= ${since}` : sql``}
      ${until ? sql`AND received_at < ${until}` : sql``}`;
    const where = sql`
      sid = ${sid}
      ${q.outcome ? sql`AND outcome = ${q.outcome}` : sql``}
      ${q.number ? sql`AND recipient = ${q.number}` : sql``}
      ${q.keyword ? sql`AND upper(keyword) = ${normalizeKeyword(q.keyword)}` : sql``}
      ${inWindow}
      ${before ? sql`AND seq < ${before}` : sql``}`;
    // Every filter has its index (migration 020), but a time window is on received_at while
    // the list is in seq order: the planner walks seq from the newest, expecting the window's
    // rows to be spread evenly, and reads the whole account for a window long past. Two
    // probes on the received_at index say which way is short: a small window (or one whose
    // newer messages are many) is read whole from that index and sorted by seq; a large one that
    // reaches the newest messages is walked in seq order.
    let wholeWindow = false;
    if (since || until) {
      const [probe] = await sql<{ inside: number; newer: number }[]>`
        SELECT (SELECT count(*)::int FROM (SELECT 1 FROM inbound_messages WHERE sid = ${sid} ${inWindow} LIMIT ${WINDOW_PROBE}) w) AS inside,
               ${until
                 ? sql`(SELECT count(*)::int FROM (SELECT 1 FROM inbound_messages WHERE sid = ${sid} AND received_at >= ${until} LIMIT ${WINDOW_PROBE}) n)`
                 : sql`0`} AS newer`;
      wholeWindow = probe!.inside < WINDOW_PROBE || probe!.newer >= WINDOW_PROBE;
    }
    const read = wholeWindow
      ? sql<LogRow[]>`
          WITH p AS (
            -- OFFSET 0 keeps the window's read apart: planned for all its rows (the received_at
            -- index, index only), not turned into the walk in seq order; half the cost of a
            -- MATERIALIZED CTE, which would copy every seq first.
            SELECT seq FROM (SELECT seq FROM inbound_messages WHERE ${where} OFFSET 0) w
            ORDER BY seq DESC LIMIT ${q.limit + 1} OFFSET ${q.offset})
          SELECT m.* FROM p JOIN inbound_messages m ON m.seq = p.seq ORDER BY m.seq DESC`
      : sql<LogRow[]>`SELECT * FROM inbound_messages WHERE ${where} ORDER BY seq DESC LIMIT ${q.limit + 1} OFFSET ${q.offset}`;
    const { rows, next_cursor } = keysetPage(await read, q.limit, 'logs', (r) => [r.seq]);
    const actions = rows.length
      ? await sql<ActionRow[]>`SELECT * FROM message_actions WHERE log_id IN ${sql(rows.map((r) => r.id))} ORDER BY type`
      : [];
    return c.json({ data: rows.map((r) => view(r, actions)), limit: q.limit, offset: q.offset, next_cursor });
  });

  routes.add(createRoute({
    method: 'get', path: '/{id}', operationId: 'getLog', tags: ['logs'], summary: 'One MO log with its actions and Temporal UI link',
    request: { params: idParam },
    responses: { 200: json(logSchema, 'The log'), ...errors(404) },
  }), async (c) => {
    const { sid } = c.get('account');
    const [row] = await sql<LogRow[]>`SELECT * FROM inbound_messages WHERE id = ${c.req.param('id')!} AND sid = ${sid}`;
    if (!row) throw notFound('log');
    const actions = await sql<ActionRow[]>`SELECT * FROM message_actions WHERE log_id = ${row.id} ORDER BY type`;
    return c.json(view(row, actions));
  });

  routes.add(createRoute({
    method: 'post', path: '/{id}/scheduled-reply', operationId: 'changeScheduledReply', tags: ['logs'],
    summary: "Cancel or reschedule (account's local time) a message's scheduled reply; signals its run",
    request: { params: idParam, body: body(steerInput) },
    responses: {
      202: json(steered, "The run was told"),
      ...errors(404, { 409: 'not_scheduled: no reply of this message is waiting', 503: 'Temporal cannot be reached now' }),
    },
  }), async (c, valid) => {
    const account = c.get('account');
    const input = await valid.json();
    const [row] = await sql<{ workflow_id: string | null; status: string | null }[]>`
      SELECT m.workflow_id, a.status FROM inbound_messages m
      LEFT JOIN message_actions a ON a.log_id = m.id AND a.type = 'auto_reply'
      WHERE m.id = ${c.req.param('id')!} AND m.sid = ${account.sid}`;
    if (!row) throw notFound('log');
    if (row.status !== 'scheduled' || !row.workflow_id) {
      throw new ApiError(409, 'not_scheduled', `this message has no scheduled reply waiting (auto reply is ${row.status ?? 'not configured'})`);
    }
    const handle = deps.temporal.workflow.getHandle(row.workflow_id);
    if (input.action === 'cancel') {
      await steer(() => handle.signal(cancelScheduledReplySignal));
      return c.json({ log_id: c.req.param('id'), action: 'cancel' }, 202);
    }
    const at = parseLocalDateTime(input.at, account.timezone);
    if (!at) throw new ValidationError('at', 'is not a real date-time');
    if (at.getTime() < Date.now() - 60_000) throw new ValidationError('at', 'must be now or in the future');
    await steer(() => handle.signal(rescheduleReplySignal, { at: at.toISOString() }));
    return c.json({ log_id: c.req.param('id'), action: 'reschedule', at: input.at, at_utc: at.toISOString() }, 202);
  });

  return routes.app;
}

/**
 * Signals a run: a run that has finished (or was never started) is a 409, Temporal out of
 * reach a 503 to retry later; neither is the service's fault.
 */
async function steer(signal: () => Promise<void>): Promise<void> {
  try {
    await signal();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(409, 'not_scheduled', 'this message\'s run has finished: no reply is waiting');
    if (isTemporalUnreachable(err)) throw new ApiError(503, 'temporal_unavailable', 'Temporal cannot be reached now; try again later');
    throw err;
  }
}

export const steerInput = z.discriminatedUnion('action', [
  z.object({ action: z.literal('cancel') }).strict(),
  z.object({ action: z.literal('reschedule'), at: localDateTime }).strict(),
]);
