import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { REPLAY_WORKFLOW, replayWorkflowIdFor, type ReplayDeliveryInput } from '../../workflows/definitions.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { body, cursorPageFields, errors, json, Routes, timestamp } from '../openapi.js';
import { CURSOR_TIME_FORMAT, cursorPage, decodeCursor, instant, keysetPage, toInstant, UUID } from '../query.js';

type DeliveryRow = {
  id: string; sid: string; log_id: string; profile_id: string | null; url: string; method: string;
  status: 'pending' | 'succeeded' | 'failed' | 'skipped'; attempts: number; replays: number;
  last_status_code: number | null; last_error: string | null; last_attempt_at: Date | null;
  request_headers: Record<string, string>; body: string | null; created_at: Date; updated_at: Date;
};

function deliveryView(r: DeliveryRow) {
  return {
    id: r.id,
    log_id: r.log_id,
    profile_id: r.profile_id,
    url: r.url,
    method: r.method,
    status: r.status,
    attempts: r.attempts,
    replays: r.replays,
    last_status_code: r.last_status_code,
    last_error: r.last_error,
    last_attempt_at: r.last_attempt_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

const listQuery = z.object({
  status: z.enum(['pending', 'succeeded', 'failed', 'skipped']).optional(),
  since: instant.optional(),
  profile_id: z.string().regex(UUID, 'must be a callback profile id').optional(),
  log_id: z.string().min(1).optional(),
  ...cursorPage(100),
});

export const bulkReplayInput = z
  .object({
    since: instant,
    until: instant.optional(),
    profile_id: z.string().regex(UUID, 'must be a callback profile id').optional(),
  })
  .strict();

const deliverySchema = z
  .object({
    id: z.string().openapi({ description: 'the webhook-id header of every attempt' }),
    log_id: z.string(),
    profile_id: z.uuid().nullable(),
    url: z.string(),
    method: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed', 'skipped']),
    attempts: z.number().int(),
    replays: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_attempt_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .openapi('Delivery');

const deliveryDetail = deliverySchema
  .extend({
    request: z.object({ headers: z.record(z.string(), z.string()), body: z.string().nullable() }),
    attempt_history: z.array(z.object({
      attempt: z.number().int(),
      round: z.number().int(),
      status_code: z.number().int().nullable(),
      latency_ms: z.number().int(),
      error: z.string().nullable(),
      response_head: z.string().nullable(),
      created_at: timestamp,
    })),
  })
  .openapi('DeliveryDetail');

const replayed = z.object({ id: z.string(), replay: z.number().int(), workflow_id: z.string() });

const idParam = z.object({ id: z.string().min(1).openapi({ description: "the delivery's id" }) });

const replayRefused = { 409: 'delivery_pending, profile_missing or profile_disabled', 503: 'Temporal cannot be reached: nothing changed' };

/** Deliveries one bulk replay starts at most; `has_more` says to call again. */
const BULK_REPLAY_LIMIT = 500;

/** `/v1/{sid}/deliveries`: webhook deliveries, their attempts, and replays (SPEC §6). */
export function deliveryRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes<AppEnv>(accountGuard(sql));

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'listDeliveries', tags: ['deliveries'], summary: 'Webhook deliveries, newest first',
    request: { query: listQuery },
    responses: { 200: json(z.object({ data: z.array(deliverySchema), ...cursorPageFields }), 'The deliveries') },
  }), async (c, valid) => {
    const { sid, timezone } = c.get('account');
    const q = valid.query();
    const since = q.since === undefined ? null : toInstant('since', q.since, timezone);
    const after = q.cursor ? decodeCursor('deliveries', q.cursor, ['time', 'text'] as const) : null;
    // The sort key is (created_at DESC, id): the rows after the cursor's are those created
    // earlier, or at the same instant with a greater id.
    const rows = await sql<(DeliveryRow & { cursor_at: string })[]>`
      SELECT *, to_char(created_at AT TIME ZONE 'UTC', ${CURSOR_TIME_FORMAT}) AS cursor_at FROM deliveries WHERE sid = ${sid}
      ${q.status ? sql`AND status = ${q.status}` : sql``}
      ${since ? sql`AND created_at >= ${since}` : sql``}
      ${q.profile_id ? sql`AND profile_id = ${q.profile_id}` : sql``}
      ${q.log_id ? sql`AND log_id = ${q.log_id}` : sql``}
      ${after ? sql`AND created_at <= ${after[0]}::text::timestamptz AND (created_at < ${after[0]}::text::timestamptz OR id > ${after[1]})` : sql``}
      ORDER BY created_at DESC, id LIMIT ${q.limit + 1} OFFSET ${q.offset}`;
    const page = keysetPage(rows, q.limit, 'deliveries', (r) => [r.cursor_at, r.id]);
    return c.json({ data: page.rows.map(deliveryView), limit: q.limit, offset: q.offset, next_cursor: page.next_cursor });
  });

  routes.add(createRoute({
    method: 'get', path: '/{id}', operationId: 'getDelivery', tags: ['deliveries'],
    summary: 'One delivery with its stored request and every attempt',
    request: { params: idParam },
    responses: { 200: json(deliveryDetail, 'The delivery'), ...errors(404) },
  }), async (c) => {
    const { sid } = c.get('account');
    const [row] = await sql<DeliveryRow[]>`SELECT * FROM deliveries WHERE id = ${c.req.param('id')!} AND sid = ${sid}`;
    if (!row) throw notFound('delivery');
    const attempts = await sql`
      SELECT attempt, round, status_code, latency_ms, error, response_head, created_at
      FROM delivery_attempts WHERE delivery_id = ${row.id} ORDER BY attempt`;
    return c.json({ ...deliveryView(row), request: { headers: row.request_headers, body: row.body }, attempt_history: attempts });
  });

  routes.add(createRoute({
    method: 'post', path: '/replay', operationId: 'replayDeliveries', tags: ['deliveries'],
    summary: `Replay every failed or skipped delivery created since a time (${BULK_REPLAY_LIMIT} per call)`,
    request: { body: body(bulkReplayInput) },
    responses: {
      202: json(z.object({
        replayed: z.array(replayed),
        not_replayed: z.array(z.object({ id: z.string(), reason: z.string() })),
        has_more: z.boolean().openapi({ description: 'more are left: call again' }),
      }).openapi('BulkReplay'), 'The replays started, and those refused with why'),
      ...errors({ 503: replayRefused[503] }),
    },
  }), async (c, valid) => {
    const { sid, timezone } = c.get('account');
    const input = await valid.json();
    const since = toInstant('since', input.since, timezone);
    const until = input.until === undefined ? null : toInstant('until', input.until, timezone);
    const candidates = await sql<{ id: string }[]>`
      SELECT id FROM deliveries
      WHERE sid = ${sid} AND status IN ('failed', 'skipped') AND created_at >= ${since}
      ${until ? sql`AND created_at < ${until}` : sql``}
      ${input.profile_id ? sql`AND profile_id = ${input.profile_id}` : sql``}
      ORDER BY created_at, id LIMIT ${BULK_REPLAY_LIMIT + 1}`;
    const replayed: { id: string; replay: number; workflow_id: string }[] = [];
    const notReplayed: { id: string; reason: string }[] = [];
    for (const { id } of candidates.slice(0, BULK_REPLAY_LIMIT)) {
      try {
        replayed.push(await replay(deps, sid, id));
      } catch (e) {
        // Temporal unreachable: stop here; what was started stays started, the rest can be asked again.
        if (!(e instanceof ApiError) || e.status >= 500) throw e;
        notReplayed.push({ id, reason: e.message });
      }
    }
    return c.json({ replayed, not_replayed: notReplayed, has_more: candidates.length > BULK_REPLAY_LIMIT }, 202);
  });

  routes.add(createRoute({
    method: 'post', path: '/{id}/replay', operationId: 'replayDelivery', tags: ['deliveries'],
    summary: 'Deliver a finished delivery again, with the same delivery id',
    request: { params: idParam },
    responses: {
      202: json(replayed.extend({ status: z.literal('pending') }).openapi('Replay'), 'The replay run started'),
      ...errors(404, replayRefused),
    },
  }), async (c) => {
    const { sid } = c.get('account');
    const r = await replay(deps, sid, c.req.param('id')!);
    return c.json({ ...r, status: 'pending' }, 202);
  });

  return routes.app;
}

/**
 * Marks a finished delivery pending again and starts its replay run, in one transaction: if
 * Temporal refuses the start, nothing changes. The replay sends the stored request with the
 * same delivery id (`webhook-id`).
 */
async function replay(deps: AppDeps, sid: string, id: string): Promise<{ id: string; replay: number; workflow_id: string }> {
  return deps.sql.begin(async (tx) => {
    const [d] = await tx<{
      id: string; log_id: string; status: string; replays: number; profile_id: string | null;
      profile_status: string | null; disabled_reason: string | null;
    }[]>`
      SELECT d.id, d.log_id, d.status, d.replays, d.profile_id, p.status AS profile_status, p.disabled_reason
      FROM deliveries d LEFT JOIN callback_profiles p ON p.id = d.profile_id
      WHERE d.id = ${id} AND d.sid = ${sid} FOR UPDATE OF d`;
    if (!d) throw notFound('delivery');
    if (d.status === 'pending') throw new ApiError(409, 'delivery_pending', 'the delivery is still being attempted; replay it once it has failed');
    if (d.profile_id && !d.profile_status) {
      throw new ApiError(409, 'profile_missing', 'the callback profile of this delivery has been deleted', 'profile_id');
    }
    if (d.profile_status && d.profile_status !== 'active') {
      throw new ApiError(409, 'profile_disabled',
        `the callback profile is ${d.profile_status}${d.disabled_reason ? ` (${d.disabled_reason})` : ''}: set its status to active first`, 'profile_id');
    }
    const round = d.replays + 1;
    await tx`
      UPDATE deliveries SET status = 'pending', replays = ${round}, last_error = NULL, updated_at = now() WHERE id = ${d.id}`;
    await tx`
      UPDATE message_actions SET status = 'pending', last_error = NULL, updated_at = now()
      WHERE log_id = ${d.log_id} AND type = 'trigger'`;
    const workflowId = replayWorkflowIdFor(d.id, round);
    await startReplay(deps, d.id, workflowId);
    return { id: d.id, replay: round, workflow_id: workflowId };
  });
}

async function startReplay(deps: AppDeps, deliveryId: string, workflowId: string): Promise<void> {
  const input: ReplayDeliveryInput = {
    deliveryId,
    webhook: {
      retryHours: deps.config.webhook.retryHours,
      initialIntervalSeconds: deps.config.webhook.initialIntervalSeconds,
      timeoutSeconds: deps.config.webhook.timeoutSeconds,
    },
  };
  try {
    await deps.temporal.withDeadline(Date.now() + 5000, () =>
      deps.temporal.workflow.start(REPLAY_WORKFLOW, {
        taskQueue: deps.config.temporal.taskQueue,
        workflowId,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw new ApiError(503, 'temporal_unavailable', `the replay could not be started: ${err instanceof Error ? err.message : String(err)}`);
  }
}
