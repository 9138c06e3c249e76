import type { Client } from '@temporalio/client';
import type { Sql } from '../db/sql.js';
import { parseReceipt, receiptText } from '../domain/smpp-receipts.js';
import { readDeliverSm, type DeliverSmFields } from '../domain/smpp-text.js';
import { recordDeliveryReport, signalDeliveryReport, type RecordedReport } from '../outbound/delivery-reports.js';

/** What a bind needs to act on delivery receipts: PostgreSQL, and Temporal to tell a waiting run (null: record only). */
export type ReceiptDeps = { sql: Sql; temporal?: Client | null; log: (line: string) => void };

export type ReceiptOutcome = { recorded: RecordedReport | null; signal: Promise<void> | null };

/**
 * A delivery receipt (SPEC §8) that came on a bind of `connection`, recorded as `POST
 * /v1/delivery-reports` records a report, but only on an SMS sent over that connection, by an
 * SMSC id of its parts (never our outbox id: anyone who can get a deliver_sm onto the bind
 * could guess those). Recorded first (this throws when PostgreSQL fails, and the caller answers
 * a temporary error so the SMSC delivers it again); a report that settles an SMS a run sent is
 * then signalled to the run. The signal is handed back to be awaited after the deliver_sm_resp,
 * so a slow Temporal never holds the SMSC's window. A receipt naming no SMS sent over the
 * connection yet is kept for a day, and applied if its SMS's part id is recorded meanwhile (a
 * fast SMSC reports before its submit_sm_resp has been written down); one that names no
 * message or status is dropped. Both are logged and answered OK: a redelivery would mend nothing.
 */
export async function recordReceipt(
  deps: ReceiptDeps,
  connection: { id: string; name: string },
  pdu: DeliverSmFields & { receipted_message_id?: unknown; message_state?: unknown },
): Promise<ReceiptOutcome> {
  const part = readDeliverSm(pdu);
  const receipt = parseReceipt(receiptText(part.octets, part.dataCoding), pdu);
  if (!receipt) {
    deps.log(`smpp ${connection.name}: a delivery receipt naming no message or status was acknowledged and dropped`);
    return { recorded: null, signal: null };
  }
  const recorded = await recordDeliveryReport(
    deps.sql,
    { messageId: receipt.messageId, status: receipt.status, errorCode: receipt.errorCode, at: receipt.at },
    { kind: 'smpp', connectionId: connection.id, messageIds: receipt.messageIds },
  );
  if (!recorded.matched) {
    deps.log(`smpp ${connection.name}: a delivery receipt (${receipt.status}) for SMSC id ${JSON.stringify(receipt.messageId)} matches ${recorded.reason === 'ambiguous' ? 'more than one SMS' : 'no SMS'} sent over this connection${recorded.kept ? '; kept for a day, in case its SMS\'s id is recorded late' : ''}`);
    return { recorded, signal: null };
  }
  if (!recorded.logId || !recorded.final || recorded.duplicate || !recorded.settled || !deps.temporal) return { recorded, signal: null };
  const signal = signalDeliveryReport(deps.temporal, deps.log, { logId: recorded.logId, outboxId: recorded.outboxId, messageId: receipt.messageId, status: receipt.status })
    .then(() => {});
  return { recorded, signal };
}
