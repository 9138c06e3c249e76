import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Sql } from '../db/sql.js';
import { deliveryOutcome } from '../domain/delivery-reports.js';
import { errorChain, isTemporalUnreachable } from '../runtime/temporal.js';
import { deliveryReportSignal, workflowIdFor } from '../workflows/definitions.js';

/** One report, its status already read by `deliveryStatus` (upper case, Kannel types named). */
export type DeliveryReport = { messageId: string; status: string; errorCode: string | null; at: Date | null };

export type RecordedReport =
  | { matched: false; reason: 'unknown' | 'ambiguous' }
  | {
      matched: true;
      outboxId: string;
      /** the MO whose run sent the SMS; null for the send API's */
      logId: string | null;
      final: boolean;
      /** this SMS had been reported in this status before: nothing changed */
      duplicate: boolean;
      /** the outbox row after the report */
      status: string;
      deliveryStatus: string | null;
    };

type Row = { id: string; log_id: string | null; purpose: string; status: string; delivery_status: string | null };

/**
 * Records a delivery report on the SMS it names (SPEC §6, §8), whether its run is still open or
 * not. The SMS is found by our outbox id, which is unique; failing that, by the provider's
 * message id, but only when exactly one SMS carries it (two providers or accounts may number
 * alike; a guess could mark someone else's SMS); an SMS sent over SMPP in several parts is also
 * found by any part's id (`provider_part_ids`). `logId` narrows the search to one run's SMS.
 *
 * Each status counts once per SMS (delivery_reports' key): a repeat changes nothing and says so.
 * A final status moves the outbox row to delivered / undelivered; an interim one is noted, and
 * never replaces a final one that came first.
 */
export async function recordDeliveryReport(sql: Sql, r: DeliveryReport, scope: { logId?: string } = {}): Promise<RecordedReport> {
  const outcome = deliveryOutcome(r.status);
  return sql.begin(async (tx): Promise<RecordedReport> => {
    const found = await tx<{ id: string }[]>`
      SELECT id FROM outbox
      WHERE channel = 'sms' AND (id = ${r.messageId} OR provider_message_id = ${r.messageId}
                                 OR provider_part_ids @> ARRAY[${r.messageId}]::text[])
      ${scope.logId ? tx`AND log_id = ${scope.logId}` : tx``}
      ORDER BY id = ${r.messageId} DESC LIMIT 2`;
    if (found.length === 0) return { matched: false, reason: 'unknown' };
    if (found[0]!.id !== r.messageId && found.length > 1) return { matched: false, reason: 'ambiguous' };
    const outboxId = found[0]!.id;

    const [fresh] = await tx`
      INSERT INTO delivery_reports (outbox_id, status, final, error_code, reported_at)
      VALUES (${outboxId}, ${r.status}, ${outcome !== null}, ${r.errorCode}, ${r.at})
      ON CONFLICT (outbox_id, status) DO NOTHING RETURNING outbox_id`;
    let row: Row | undefined;
    if (fresh) {
      [row] = await tx<Row[]>`
        UPDATE outbox SET status = coalesce(${outcome}::text, status), delivery_status = ${r.status},
               delivery_error_code = ${r.errorCode}, delivery_reported_at = coalesce(${r.at}::timestamptz, now()), updated_at = now()
        WHERE id = ${outboxId} AND (${outcome !== null}::boolean OR status NOT IN ('delivered', 'undelivered'))
        RETURNING id, log_id, purpose, status, delivery_status`;
      // The run's action shows the SMS's latest status too (GET /v1/{sid}/logs/{id}).
      if (row?.log_id) {
        await tx`UPDATE message_actions SET detail = detail || ${tx.json({ delivery_status: r.status })}, updated_at = now()
                 WHERE log_id = ${row.log_id} AND type = ${row.purpose}`;
      }
    }
    row ??= (await tx<Row[]>`SELECT id, log_id, purpose, status, delivery_status FROM outbox WHERE id = ${outboxId}`)[0]!;
    return {
      matched: true, outboxId, logId: row.log_id, final: outcome !== null, duplicate: !fresh,
      status: row.status, deliveryStatus: row.delivery_status,
    };
  });
}

/**
 * Tells the run that sent an SMS of a final report new to it (within 3 s), after the report was
 * recorded: `POST /v1/delivery-reports` and SMPP receipts alike. A run that has ended waits for
 * nothing; one Temporal could not be told keeps the SMS open until its window ends (logged).
 */
export async function signalDeliveryReport(
  temporal: Client,
  log: ((line: string) => void) | undefined,
  r: { logId: string; outboxId: string; messageId: string; status: string },
): Promise<'signalled' | 'ended' | 'not_signalled'> {
  const workflowId = workflowIdFor(r.logId);
  try {
    await temporal.withDeadline(Date.now() + 3000, () =>
      temporal.workflow.getHandle(workflowId).signal(deliveryReportSignal, { message_id: r.messageId, status: r.status, outbox_id: r.outboxId }));
    return 'signalled';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'ended';
    log?.(`delivery report for ${r.outboxId} not signalled to ${workflowId}${isTemporalUnreachable(err) ? ' (Temporal unreachable)' : ''}: ${errorChain(err)}`);
    return 'not_signalled';
  }
}
