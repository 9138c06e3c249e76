import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { deliveryStatus, KANNEL_DLR_TYPES } from '../../domain/delivery-reports.js';
import { MAX_CARRIER_ID, parseCarrierTime } from '../../domain/mo-metadata.js';
import { recordDeliveryReport, signalDeliveryReport } from '../../outbound/delivery-reports.js';
import { gatewayGuard, type GatewayEnv } from '../auth.js';
import type { Gateway } from '../../domain/gateways.js';
import type { AppDeps } from '../deps.js';
import type { Ingestion } from '../../ingest/ingest.js';
import { body, json, NOT_BLANK, Routes } from '../openapi.js';

const scalar = (what: string) => z.union([z.string(), z.number()], { error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) });
const kannelTypes = Object.entries(KANNEL_DLR_TYPES).map(([n, name]) => `${n} ${name}`).join(', ');

/** SPEC §6: `{message_id, status, error_code?, at?}`, as JSON or (GET) as query parameters. */
export const deliveryReportInput = z.object({
  message_id: scalar('a string')
    .transform((v) => String(v).trim())
    .pipe(z.string().min(1, 'must not be empty').max(MAX_CARRIER_ID))
    .describe('our outbox id (the `id` the http provider sends), or the message id the provider answered with')
    .openapi({ anyOf: [{ type: 'string', pattern: NOT_BLANK, maxLength: MAX_CARRIER_ID }, { type: 'number' }] }),
  status: scalar('a string')
    .refine((v) => deliveryStatus(v) !== null, `must be a status name (letters, digits, _ . - and spaces, up to 32) or a Kannel DLR type (${kannelTypes})`)
    .transform((v) => deliveryStatus(v)!)
    .describe(`DELIVERED, DELIVRD, FAILED, UNDELIV, EXPIRED, REJECTED, … (any case), or Kannel's %d (${kannelTypes}); only delivered and undelivered ones are final`)
    .openapi({
      anyOf: [
        { type: 'string', pattern: `^([A-Za-z][A-Za-z0-9_. -]{0,31}|0{0,4}(${Object.keys(KANNEL_DLR_TYPES).join('|')}))$` },
        { type: 'integer', enum: Object.keys(KANNEL_DLR_TYPES).map(Number) },
      ],
    }),
  error_code: scalar('a string or a number')
    .nullish()
    .transform((v) => (v == null ? null : String(v).trim().slice(0, 64) || null))
    .describe('kept as given, cut to 64 characters'),
  at: scalar('a string or a number')
    .nullish()
    .describe("when the SMS reached this status: ISO-8601, Kaleyra's YYYY-MM-DD HH:MM:SS (UTC) or Unix seconds (Kannel's %T); one that cannot be read is noted and the arrival time used"),
});
type DeliveryReportInput = z.output<typeof deliveryReportInput>;

const notes = z.array(z.string()).optional().openapi({ description: 'what could not be read (an unreadable `at`), and what was done instead' });
const reportAnswer = z
  .union([
    z.object({ matched: z.literal(false), reason: z.enum(['unknown', 'ambiguous']).optional().openapi({ description: 'for the default gateway (INGEST_TOKEN) only' }), notes }),
    z.object({
      matched: z.literal(true),
      outbox_id: z.string(),
      status: z.string().openapi({ description: "the outbox row's status after the report" }),
      delivery_status: z.string().nullable(),
      final: z.boolean(),
      duplicate: z.boolean().openapi({ description: 'the SMS had this status already: nothing changed' }),
      run: z.enum(['signalled', 'ended', 'not_signalled']).nullable().openapi({ description: 'what the run that sent the SMS was told; null when there was nothing to tell' }),
      notes,
    }),
  ])
  .openapi('DeliveryReportResult');

/**
 * The report's own time. Like an MO's metadata (SPEC §5) it never costs the report: a time
 * that cannot be read gives way to the arrival time, with a note in the answer.
 */
function reportedAt(raw: string | number | null | undefined, notes: string[]): Date | null {
  if (raw == null || raw === '') return null;
  const text = String(raw).trim();
  const at = /^\d{9,11}$/.test(text) ? new Date(Number(text) * 1000) : parseCarrierTime(text);
  if (!at) notes.push(`at: ${JSON.stringify(text.slice(0, 64))} is not a date-time; the arrival time is used`);
  return at;
}

/**
 * Delivery reports from gateways and SMS providers (SPEC §6, §8): the report is recorded on
 * its SMS first, so the outbox is right whatever Temporal does; a first final report of an SMS
 * a run sent then tells the run, which ends its wait once each of its SMS has one. Answers 202
 * for every report it could read, also one naming no SMS we know (`matched: false`): a gateway
 * that retried errors would only send it again and again.
 */
export function deliveryReportRoutes(deps: AppDeps & { ingestion: Ingestion }) {
  const app = new OpenAPIHono<GatewayEnv>();
  const { sql, temporal } = deps;

  const signalRun = (logId: string, report: DeliveryReportInput, outboxId: string) =>
    signalDeliveryReport(temporal, deps.log, { logId, outboxId, messageId: report.message_id, status: report.status });

  async function handle(report: DeliveryReportInput, gateway: Gateway) {
    const notes: string[] = [];
    const at = reportedAt(report.at, notes);
    // Only among the SMS this gateway may report on (ReportScope); an operator's gateway learns nothing of the others.
    const recorded = await recordDeliveryReport(sql, { messageId: report.message_id, status: report.status, errorCode: report.error_code, at }, { kind: 'gateway', gateway });
    if (!recorded.matched) return { matched: false as const, ...(recorded.reason ? { reason: recorded.reason } : {}), ...(notes.length ? { notes } : {}) };
    // A final status new to the SMS that settles it (every part, or one failed) can end a wait; others are the outbox's business alone.
    const run = recorded.logId && recorded.final && !recorded.duplicate && recorded.settled ? await signalRun(recorded.logId, report, recorded.outboxId) : null;
    return {
      matched: true, outbox_id: recorded.outboxId, status: recorded.status, delivery_status: recorded.deliveryStatus,
      final: recorded.final, duplicate: recorded.duplicate, run, ...(notes.length ? { notes } : {}),
    };
  }

  // Any live gateway's token, as for MOs (SPEC §5); which SMS it may name: ReportScope (outbound/delivery-reports.ts).
  const byHeader = new Routes<GatewayEnv>(gatewayGuard(deps.tokens, deps.ingestion.gateways));
  byHeader.add(createRoute({
    method: 'post', path: '/', operationId: 'reportDelivery', tags: ['carrier'],
    summary: "A delivery report for an SMS we sent, named by our outbox id or the provider's message id; 202 also for one naming no SMS we know (matched: false)",
    request: { body: body(deliveryReportInput) },
    responses: { 202: json(reportAnswer, 'Read, and recorded on its SMS when one matches') },
  }), async (c, valid) => c.json(await handle(await valid.json(), c.get('gateway')), 202));

  // Gateways that call a URL (Kannel's dlr-url) put the report, and the token, in the query.
  const byUrl = new Routes<GatewayEnv>(gatewayGuard(deps.tokens, deps.ingestion.gateways, { queryParam: 'token' }));
  byUrl.add(createRoute({
    method: 'get', path: '/', operationId: 'reportDeliveryByUrl', tags: ['carrier'],
    summary: "The same from query parameters, for gateways that call a URL (Kannel's dlr-url: status=%d); the token may be given as ?token=",
    request: { query: deliveryReportInput },
    responses: { 202: json(reportAnswer, 'Read, and recorded on its SMS when one matches') },
  }), async (c, valid) => c.json(await handle(valid.query(), c.get('gateway')), 202));

  app.route('/', byHeader.app);
  app.route('/', byUrl.app);
  return app;
}
