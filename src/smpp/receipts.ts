import type { Client } from '@temporalio/client';
import type { Sql } from '../db/sql.js';
import { parseReceipt } from '../domain/smpp-receipts.js';
import { decodeText, readDeliverSm, type DeliverSmFields } from '../domain/smpp-text.js';
import { recordDeliveryReport, signalDeliveryReport, type RecordedReport } from '../outbound/delivery-reports.js';

/** What a bind needs to act on delivery receipts: PostgreSQL, and Temporal to tell a waiting run (null: record only). */
export type ReceiptDeps = { sql: Sql; temporal?: Client | null; log: (line: string) => void };

export type ReceiptOutcome = { recorded: RecordedReport | null; signal: Promise<void> | null };

/**
 * A delivery receipt (SPEC §8), as `POST /v1/delivery-reports` takes a report: recorded on its
 * SMS first (this throws when PostgreSQL fails, and the caller answers a temporary error so the
 * SMSC delivers it again); a status new to an SMS a run sent, and final, is then signalled to
 * the run. The signal is handed back to be awaited after the deliver_sm_resp, so a slow
 * Temporal never holds the SMSC's window. A receipt that names no message or status, or no SMS
 * of ours, is answered OK: nothing a redelivery could mend.
 */
export async function recordReceipt(deps: ReceiptDeps, pdu: DeliverSmFields & { receipted_message_id?: unknown; message_state?: unknown }): Promise<ReceiptOutcome> {
  const part = readDeliverSm(pdu);
  const receipt = parseReceipt(decodeText(part.octets, part.dataCoding).text, pdu);
  if (!receipt) {
    deps.log(`smpp: a delivery receipt naming no message or status was acknowledged and dropped`);
    return { recorded: null, signal: null };
  }
  const recorded = await recordDeliveryReport(deps.sql, { messageId: receipt.messageId, status: receipt.status, errorCode: receipt.errorCode, at: receipt.at });
  if (!recorded.matched || !recorded.logId || !recorded.final || recorded.duplicate || !deps.temporal) return { recorded, signal: null };
  const signal = signalDeliveryReport(deps.temporal, deps.log, { logId: recorded.logId, outboxId: recorded.outboxId, messageId: receipt.messageId, status: receipt.status })
    .then(() => {});
  return { recorded, signal };
}
