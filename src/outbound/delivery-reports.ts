import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Sql } from '../db/sql.js';
import { deliveryOutcome, HTTP_REPORTING_PROVIDERS, smsOutcome } from '../domain/delivery-reports.js';
import type { Gateway } from '../domain/gateways.js';
import { partIdKeys, receiptIdLookups, receiptPart } from '../domain/smpp-receipts.js';
import { errorChain, isTemporalUnreachable } from '../runtime/temporal.js';
import { deliveryReportSignal, workflowIdFor } from '../workflows/definitions.js';
import type { Log } from '../runtime/logger.js';

/** One report, its status already read by `deliveryStatus` (upper case, Kannel types named). */
export type DeliveryReport = { messageId: string; status: string; errorCode: string | null; at: Date | null };

/**
 * Which SMS a report may name (docs/decisions.md, "Delivery reports"):
 * - `gateway`: `POST /v1/delivery-reports`. The default gateway (INGEST_TOKEN, id null) finds
 *   any SMS by our outbox id, the provider's id or an SMPP part's id; an operator's gateway only
 *   SMS of the HTTP-reporting providers, and, when it is limited to numbers, only those sent
 *   from one of them or answering an MO to one of them.
 * - `smpp`: a receipt on a bind of that connection: only SMS sent over it, by an SMSC id of
 *   theirs (never our outbox id), the receipt's ids tried as receiptIdLookups says.
 * - `run`: a `deliveryReport` signal sent to a run directly: that run's SMS only.
 */
export type ReportScope =
  | { kind: 'gateway'; gateway: Pick<Gateway, 'id' | 'numbers'> }
  | { kind: 'smpp'; connectionId: string; messageIds?: string[] }
  | { kind: 'run'; logId: string };

export type RecordedReport =
  | {
      matched: false;
      /** unknown or ambiguous; left out for an operator's gateway, which must not tell others' SMS from none */
      reason?: 'unknown' | 'ambiguous';
      /** an SMPP receipt kept to be applied when its SMS's part id is recorded (smpp_unmatched_receipts) */
      kept?: boolean;
    }
  | {
      matched: true;
      outboxId: string;
      /** the part reported on (its SMSC id), or '' for the whole SMS */
      partId: string;
      /** the MO whose run sent the SMS; null for the send API's */
      logId: string | null;
      /** the report's status is final */
      final: boolean;
      /** this part (or the whole SMS) had been reported in this status before: nothing changed */
      duplicate: boolean;
      /** the SMS is delivered or undelivered, all parts considered (smsOutcome) */
      settled: boolean;
      /** the outbox row after the report */
      status: string;
      deliveryStatus: string | null;
    };

type Row = {
  id: string; log_id: string | null; purpose: string; status: string; delivery_status: string | null;
  provider_part_ids: string[] | null; provider_parts: number | null;
};
type Found = { id: string; partId: string } | 'ambiguous' | null;
type Tx = Sql;

/**
 * Records a delivery report on the SMS it names (SPEC §6, §8), whether its run is still open or
 * not, among the SMS `scope` lets it name (ReportScope). By our outbox id, which is unique;
 * else by a provider's id only when exactly one SMS carries it (two providers or accounts may
 * number alike; a guess could mark someone else's SMS).
 *
 * Each status counts once per part (delivery_reports' key): a repeat changes nothing and says
 * so. The SMS's status follows smsOutcome: undelivered once any part failed, delivered once
 * every part (or the whole) was delivered; the latest status is shown unless it contradicts
 * that. An SMPP receipt that names no SMS sent over its connection yet is kept, to be applied
 * when its part id is recorded (recordSentPart).
 */
export async function recordDeliveryReport(sql: Sql, r: DeliveryReport, scope: ReportScope): Promise<RecordedReport> {
  const unmatched = (reason: 'unknown' | 'ambiguous'): RecordedReport =>
    scope.kind === 'gateway' && scope.gateway.id !== null ? { matched: false } : { matched: false, reason };
  return sql.begin(async (tx): Promise<RecordedReport> => {
    const t = tx as unknown as Tx;
    let found = await findSms(t, r, scope);
    if (found === null && scope.kind === 'smpp') {
      // Exclusive against recordSentPart's shared lock: either it committed the part id, and
      // the second look finds it, or it has yet to look for this receipt, and will.
      await t`SELECT pg_advisory_xact_lock(hashtext(${`smpp-receipts:${scope.connectionId}`}))`;
      found = await findSms(t, r, scope);
      if (found === null) {
        const ids = scope.messageIds?.length ? scope.messageIds : [r.messageId];
        await t`
          INSERT INTO smpp_unmatched_receipts (connection_id, message_id, keys, status, error_code, at)
          VALUES (${scope.connectionId}, ${r.messageId}, ${receiptIdLookups(ids).flat()}, ${r.status}, ${r.errorCode}, ${r.at})`;
        return { matched: false, reason: 'unknown', kept: true };
      }
    }
    if (found === null) return unmatched('unknown');
    if (found === 'ambiguous') return unmatched('ambiguous');
    return recordOn(t, found.id, found.partId, r);
  });
}

async function findSms(tx: Tx, r: DeliveryReport, scope: ReportScope): Promise<Found> {
  const m = r.messageId;
  if (scope.kind === 'smpp') {
    const ids = scope.messageIds?.length ? scope.messageIds : [m];
    for (const [tier, lookup] of receiptIdLookups(ids).entries()) {
      if (lookup.length === 0) continue;
      const rows = await tx<{ id: string; provider_part_ids: string[] | null }[]>`
        SELECT id, provider_part_ids FROM outbox
        WHERE provider = 'smpp' AND channel = 'sms' AND provider_connection_id = ${scope.connectionId}
          AND provider_part_keys && ${lookup}::text[]
        LIMIT 2`;
      if (rows.length > 1) return 'ambiguous';
      if (rows.length === 1) {
        // The part the receipt names best. Not necessarily one found at this tier: the part ids
        // may have been recorded between this lookup and a better tier's (no lock is held yet).
        return { id: rows[0]!.id, partId: receiptPart(ids, rows[0]!.provider_part_ids ?? []) };
      }
    }
    return null;
  }
  let rows: { id: string; provider_part_ids: string[] | null }[];
  if (scope.kind === 'run') {
    rows = await tx`
      SELECT id, provider_part_ids FROM outbox
      WHERE channel = 'sms' AND log_id = ${scope.logId}
        AND (id = ${m} OR provider_message_id = ${m} OR provider_part_ids @> ARRAY[${m}]::text[])
      ORDER BY id = ${m} DESC LIMIT 2`;
  } else if (scope.gateway.id === null) {
    rows = await tx`
      SELECT id, provider_part_ids FROM outbox
      WHERE channel = 'sms' AND (id = ${m} OR provider_message_id = ${m}
                                 OR (provider = 'smpp' AND provider_part_keys @> ARRAY[${`=${m}`}]::text[]))
      ORDER BY id = ${m} DESC LIMIT 2`;
  } else {
    const numbers = scope.gateway.numbers;
    rows = await tx`
      SELECT id, provider_part_ids FROM outbox o
      WHERE channel = 'sms' AND provider = ANY(${[...HTTP_REPORTING_PROVIDERS]}::text[]) AND (id = ${m} OR provider_message_id = ${m})
        ${numbers === null ? tx`` : tx`AND (sender = ANY(${numbers}::text[]) OR EXISTS (
          SELECT 1 FROM inbound_messages mo WHERE mo.id = o.log_id AND mo.recipient = ANY(${numbers}::text[])))`}
      ORDER BY id = ${m} DESC LIMIT 2`;
  }
  if (rows.length === 0) return null;
  if (rows[0]!.id !== m && rows.length > 1) return 'ambiguous';
  // By our id: the whole SMS. By a provider's id: the part it names, when the SMS went in parts.
  const partId = rows[0]!.id !== m && rows[0]!.provider_part_ids?.includes(m) ? m : '';
  return { id: rows[0]!.id, partId };
}

/** Records one report on one SMS (part), under the row's lock, so two parts' reports settle it in turn. */
async function recordOn(tx: Tx, outboxId: string, partId: string, r: DeliveryReport): Promise<RecordedReport> {
  const outcome = deliveryOutcome(r.status);
  const [row] = await tx<Row[]>`
    SELECT id, log_id, purpose, status, delivery_status, provider_part_ids, provider_parts FROM outbox WHERE id = ${outboxId} FOR UPDATE`;
  const [fresh] = await tx`
    INSERT INTO delivery_reports (outbox_id, part_id, status, final, error_code, reported_at)
    VALUES (${outboxId}, ${partId}, ${r.status}, ${outcome !== null}, ${r.errorCode}, ${r.at})
    ON CONFLICT (outbox_id, part_id, status) DO NOTHING RETURNING outbox_id`;
  const reports = await tx<{ part_id: string; status: string }[]>`SELECT part_id, status FROM delivery_reports WHERE outbox_id = ${outboxId}`;
  const settled = smsOutcome({ ids: row!.provider_part_ids, total: row!.provider_parts }, reports.map((x) => ({ partId: x.part_id, status: x.status })));
  let after: Row = row!;
  if (fresh) {
    // The latest status is shown, unless it contradicts where the SMS stands (a part's DELIVRD
    // on an SMS another part of which failed; an interim status after the final one).
    const shows = settled === null ? !['delivered', 'undelivered'].includes(row!.status) : outcome === settled;
    const [updated] = await tx<Row[]>`
      UPDATE outbox SET status = coalesce(${settled}::text, status),
             delivery_status = CASE WHEN ${shows} THEN ${r.status} ELSE delivery_status END,
             delivery_error_code = CASE WHEN ${shows} THEN ${r.errorCode} ELSE delivery_error_code END,
             delivery_reported_at = CASE WHEN ${shows} THEN coalesce(${r.at}::timestamptz, now()) ELSE delivery_reported_at END,
             updated_at = now()
      WHERE id = ${outboxId}
      RETURNING id, log_id, purpose, status, delivery_status, provider_part_ids, provider_parts`;
    after = updated!;
    // The run's action shows the SMS's latest status too (GET /v1/{sid}/logs/{id}).
    if (shows && after.log_id) {
      await tx`UPDATE message_actions SET detail = detail || ${tx.json({ delivery_status: r.status })}, updated_at = now()
               WHERE log_id = ${after.log_id} AND type = ${after.purpose}`;
    }
  }
  return {
    matched: true, outboxId, partId, logId: after.log_id, final: outcome !== null, duplicate: !fresh, settled: settled !== null,
    status: after.status, deliveryStatus: after.delivery_status,
  };
}

/** A report applied when its part's id was recorded, for the sender to signal the run with. */
export type AppliedReport = { report: DeliveryReport; recorded: RecordedReport };

/**
 * Records, as its submit_sm_resp comes, the SMSC ids of the parts of an SMS sent over an SMPP
 * connection so far (`ids`, in order, '' for a part the SMSC gave no id), with the connection
 * and the number of parts, so that a receipt finds it from the first part on and a later
 * attempt resumes after the parts already accepted. In the same transaction, receipts that came
 * before the newest part's id was known (smpp_unmatched_receipts) are applied and let go.
 */
export async function recordSentPart(sql: Sql, p: { outboxId: string; connectionId: string; total: number; ids: string[] }): Promise<AppliedReport[]> {
  return sql.begin(async (tx) => {
    const t = tx as unknown as Tx;
    await t`SELECT pg_advisory_xact_lock_shared(hashtext(${`smpp-receipts:${p.connectionId}`}))`;
    const known = p.ids.filter((id) => id !== '');
    const keys = [...new Set(known.flatMap(partIdKeys))];
    const updated = await t`
      UPDATE outbox SET provider_connection_id = ${p.connectionId}, provider_parts = ${p.total}, provider_part_ids = ${p.ids},
             provider_part_keys = ${keys}, provider_message_id = ${known[0] ?? null}, updated_at = now()
      WHERE id = ${p.outboxId} RETURNING id`;
    const newest = p.ids[p.ids.length - 1];
    if (updated.length === 0 || !newest) return [];
    const pending = await t<{ id: string; message_id: string; keys: string[]; status: string; error_code: string | null; at: Date | null }[]>`
      SELECT id, message_id, keys, status, error_code, at FROM smpp_unmatched_receipts
      WHERE connection_id = ${p.connectionId} AND keys && ${partIdKeys(newest)}::text[]
      ORDER BY id FOR UPDATE`;
    if (pending.length === 0) return [];
    // Only the best match counts, as for a receipt that finds its SMS (receiptIdLookups).
    const partKeys = new Set(partIdKeys(newest));
    const tierOf = (k: string) => (k.startsWith('=') ? 0 : k.startsWith('~') ? 1 : 2);
    const tiers = pending.map((x) => Math.min(...x.keys.filter((k) => partKeys.has(k)).map(tierOf)));
    const best = Math.min(...tiers);
    const applied: AppliedReport[] = [];
    for (const [i, x] of pending.entries()) {
      if (tiers[i] !== best) continue;
      const report = { messageId: x.message_id, status: x.status, errorCode: x.error_code, at: x.at };
      applied.push({ report, recorded: await recordOn(t, p.outboxId, newest, report) });
      await t`DELETE FROM smpp_unmatched_receipts WHERE id = ${x.id}`;
    }
    return applied;
  });
}

/** Lets go of SMPP receipts that found no SMS within a day: none of ours will claim them now. */
export async function pruneUnmatchedReceipts(sql: Sql, olderThanMs = 86_400_000): Promise<void> {
  await sql`DELETE FROM smpp_unmatched_receipts WHERE received_at < now() - ${`${Math.ceil(olderThanMs / 1000)} seconds`}::interval`;
}

/**
 * Tells the run that sent an SMS of a final report new to it (within 3 s), after the report was
 * recorded: `POST /v1/delivery-reports` and SMPP receipts alike. A run that has ended waits for
 * nothing; one Temporal could not be told keeps the SMS open until its window ends (logged).
 */
export async function signalDeliveryReport(
  temporal: Client,
  log: Log | undefined,
  r: { logId: string; outboxId: string; messageId: string; status: string },
): Promise<'signalled' | 'ended' | 'not_signalled'> {
  const workflowId = workflowIdFor(r.logId);
  try {
    await temporal.withDeadline(Date.now() + 3000, () =>
      temporal.workflow.getHandle(workflowId).signal(deliveryReportSignal, { message_id: r.messageId, status: r.status, outbox_id: r.outboxId }));
    return 'signalled';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'ended';
    log?.(`delivery report for ${r.outboxId} not signalled to ${workflowId}${isTemporalUnreachable(err) ? ' (Temporal unreachable)' : ''}: ${errorChain(err)}`, { level: 'warn', moId: r.logId, workflowId });
    return 'not_signalled';
  }
}
