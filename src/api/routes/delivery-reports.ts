import { Hono } from 'hono';
import { z } from 'zod';
import { deliveryStatus, KANNEL_DLR_TYPES } from '../../domain/delivery-reports.js';
import { MAX_CARRIER_ID, parseCarrierTime } from '../../domain/mo-metadata.js';
import { recordDeliveryReport, signalDeliveryReport } from '../../outbound/delivery-reports.js';
import { requireGateway, type GatewayEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import type { Ingestion } from '../../ingest/ingest.js';
import { fromZod, parseJson, rejectNul } from '../errors.js';

const scalar = (what: string) => z.union([z.string(), z.number()], { error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) });
const kannelTypes = Object.entries(KANNEL_DLR_TYPES).map(([n, name]) => `${n} ${name}`).join(', ');

/** SPEC §6: `{message_id, status, error_code?, at?}`, as JSON or (GET) as query parameters. */
export const deliveryReportInput = z.object({
  message_id: scalar('a string')
    .transform((v) => String(v).trim())
    .pipe(z.string().min(1, 'must not be empty').max(MAX_CARRIER_ID))
    .describe('our outbox id (the `id` the http provider sends), or the message id the provider answered with'),
  status: scalar('a string')
    .refine((v) => deliveryStatus(v) !== null, `must be a status name (letters, digits, _ . - and spaces, up to 32) or a Kannel DLR type (${kannelTypes})`)
    .transform((v) => deliveryStatus(v)!)
    .describe(`DELIVERED, DELIVRD, FAILED, UNDELIV, EXPIRED, REJECTED, … (any case), or Kannel's %d (${kannelTypes}); only delivered and undelivered ones are final`),
  error_code: scalar('a string or a number')
    .nullish()
    .transform((v) => (v == null ? null : String(v).trim().slice(0, 64) || null))
    .describe('kept as given, cut to 64 characters'),
  at: scalar('a string or a number')
    .nullish()
    .describe("when the SMS reached this status: ISO-8601, Kaleyra's YYYY-MM-DD HH:MM:SS (UTC) or Unix seconds (Kannel's %T); one that cannot be read is noted and the arrival time used"),
});
type DeliveryReportInput = z.output<typeof deliveryReportInput>;

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
  const app = new Hono<GatewayEnv>();
  const { sql, temporal } = deps;

  const signalRun = (logId: string, report: DeliveryReportInput, outboxId: string) =>
    signalDeliveryReport(temporal, deps.log, { logId, outboxId, messageId: report.message_id, status: report.status });

  async function handle(report: DeliveryReportInput) {
    const notes: string[] = [];
    const at = reportedAt(report.at, notes);
    const recorded = await recordDeliveryReport(sql, { messageId: report.message_id, status: report.status, errorCode: report.error_code, at });
    if (!recorded.matched) return { matched: false, reason: recorded.reason, ...(notes.length ? { notes } : {}) };
    // Only a status new to the SMS can end a wait; interim ones are the outbox's business alone.
    const run = recorded.logId && recorded.final && !recorded.duplicate ? await signalRun(recorded.logId, report, recorded.outboxId) : null;
    return {
      matched: true, outbox_id: recorded.outboxId, status: recorded.status, delivery_status: recorded.deliveryStatus,
      final: recorded.final, duplicate: recorded.duplicate, run, ...(notes.length ? { notes } : {}),
    };
  }

  // Any live gateway's token, as for MOs (SPEC §5); reports name our SMS, not a number, so a gateway's number limit does not apply.
  app.post('/', requireGateway(deps.tokens, deps.ingestion.gateways), async (c) => c.json(await handle(await parseJson(c, deliveryReportInput)), 202));

  // Gateways that call a URL (Kannel's dlr-url) put the report, and the token, in the query.
  app.get('/', requireGateway(deps.tokens, deps.ingestion.gateways, { queryParam: 'token' }), async (c) => {
    const { token: _token, ...query } = c.req.query();
    rejectNul(query);
    const parsed = deliveryReportInput.safeParse(query);
    if (!parsed.success) throw fromZod(parsed.error);
    return c.json(await handle(parsed.data), 202);
  });

  return app;
}
