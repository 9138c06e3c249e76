// SPEC §5.1: the consent ledger in PostgreSQL. Ingest writes an MO's entries in the MO's own
// commit (ingest/writer.ts); every send reads the customer's state through effectiveStates
// here; the run applies its entries (applyConsent) and records what came of them.
import type { Queryable, Sql } from '../db/sql.js';
import { changeOf, consentLockKey, type ConsentCause, type ConsentChannel, type ConsentDirection } from '../domain/consent.js';
import { effectiveStates, subscriptionWrites, type StoredSubscription, type SubscriptionState } from '../domain/subscriptions.js';

export type LedgerEntry = {
  id: string; sid: string; msisdn: string; direction: ConsentDirection; senders: string[]; cause: ConsentCause;
  log_id: string | null; keyword: string | null; channel: ConsentChannel | null; via_number: string | null;
  status: 'pending' | 'applied' | 'skipped'; reason: string | null; written: string[] | null; created_at: Date; applied_at: Date | null;
};

/** Why an entry was not applied: a change that came after it had been applied already. */
export const SUPERSEDED = 'superseded: a later change of this customer was applied before it';

/**
 * The customer's state as every send must obey it (SPEC §5.1): the rows runs have applied,
 * then the entries stored but not applied yet, in arrival order. One round trip. `except`: an
 * MO whose own change is left out (the confirmation of its opt-out; its rows read as unset).
 */
export async function consentStates(sql: Queryable, sid: string, msisdn: string, except: string | null = null): Promise<SubscriptionState[]> {
  const rows = await sql<{ kind: 'row' | 'pending'; sender_id: string | null; status: 'subscribed' | 'unsubscribed' | null; seq: string; direction: string | null; senders: string[] | null }[]>`
    SELECT 'row' AS kind, sender_id, status, changed_entry AS seq, NULL AS direction, NULL::text[] AS senders
    FROM subscriptions WHERE sid = ${sid} AND msisdn = ${msisdn} AND log_id IS DISTINCT FROM ${except}
    UNION ALL
    SELECT 'pending', NULL, NULL, id, direction, senders
    FROM consent_ledger WHERE sid = ${sid} AND msisdn = ${msisdn} AND status = 'pending' AND log_id IS DISTINCT FROM ${except}`;
  const stored: StoredSubscription[] = [];
  const pending: { seq: number; change: ReturnType<typeof changeOf> }[] = [];
  for (const r of rows) {
    if (r.kind === 'row') stored.push({ sender_id: r.sender_id!, status: r.status!, changed_entry: r.seq });
    else pending.push({ seq: Number(r.seq), change: changeOf({ direction: r.direction!, senders: r.senders! }) });
  }
  return effectiveStates(stored, pending);
}

/**
 * Applies one entry (the MO `logId`'s for account `sid`) to the customer's rows, with every
 * entry of that customer stored before it and still pending, in arrival order, so that the
 * rows never depend on the order runs happen to execute in. An entry already applied (by a
 * later MO's run, which applied this one on its way) is answered as it stands. Null when the
 * MO wrote no entry for that account.
 */
export async function applyConsent(sql: Sql, logId: string, sid: string): Promise<LedgerEntry | null> {
  return sql.begin(async (tx) => {
    const [entry] = await tx<LedgerEntry[]>`SELECT * FROM consent_ledger WHERE log_id = ${logId} AND sid = ${sid}`;
    if (!entry) return null;
    if (entry.status !== 'pending') return entry;
    await tx`SELECT pg_advisory_xact_lock(hashtext(${consentLockKey(sid, entry.msisdn)}))`;
    // Read again under the lock: a later MO's run may have applied it while this one waited.
    const [now] = await tx<LedgerEntry[]>`SELECT * FROM consent_ledger WHERE id = ${entry.id}`;
    if (now!.status !== 'pending') return now!;
    const due = await tx<LedgerEntry[]>`
      SELECT * FROM consent_ledger
      WHERE sid = ${sid} AND msisdn = ${entry.msisdn} AND status = 'pending' AND id <= ${entry.id}
      ORDER BY id`;
    const current = await tx<(StoredSubscription & { sender_id: string })[]>`
      SELECT sender_id, status, changed_entry FROM subscriptions WHERE sid = ${sid} AND msisdn = ${entry.msisdn}`;
    let mine: LedgerEntry = entry;
    for (const e of due) {
      const writes = subscriptionWrites(changeOf(e), current, { seq: Number(e.id) });
      for (const w of writes) {
        await tx`
          INSERT INTO subscriptions (sid, msisdn, sender_id, status, via_number, log_id, changed_at, changed_entry)
          VALUES (${sid}, ${e.msisdn}, ${w.sender_id}, ${w.status}, ${e.via_number}, ${e.log_id}, ${e.created_at}, ${e.id})
          ON CONFLICT (sid, msisdn, sender_id) DO UPDATE
          SET status = excluded.status, via_number = excluded.via_number, log_id = excluded.log_id,
              changed_at = excluded.changed_at, changed_entry = excluded.changed_entry, updated_at = now()`;
        // The per-sender history `GET /subscriptions/history` has always read.
        await tx`
          INSERT INTO subscription_events (sid, msisdn, sender_id, status, via_number, log_id, message_at)
          VALUES (${sid}, ${e.msisdn}, ${w.sender_id}, ${w.status}, ${e.via_number}, ${e.log_id}, ${e.created_at})
          ON CONFLICT DO NOTHING`;
        const at = current.findIndex((c) => c.sender_id === w.sender_id);
        const row = { ...w, changed_entry: e.id };
        if (at >= 0) current[at] = row;
        else current.push(row);
      }
      const [done] = await tx<LedgerEntry[]>`
        UPDATE consent_ledger
        SET status = ${writes.length ? 'applied' : 'skipped'}, reason = ${writes.length ? null : SUPERSEDED},
            written = ${writes.map((w) => w.sender_id)}::text[], applied_at = now()
        WHERE id = ${e.id} RETURNING *`;
      if (e.id === entry.id) mine = done!;
    }
    return mine;
  });
}

/** Why an MO stored before the ledger records no change: its customer's later MO did first. */
export const LATE_SUPERSEDED = 'superseded: stored before the consent ledger, after which this customer changed their consent again';

/**
 * An MO stored before the ledger (its run planned by an older version, or resumed across the
 * upgrade) has no entry: its run writes one now. It came before every MO that wrote an entry,
 * so when the customer has one already, this change is older than theirs: it is recorded
 * `skipped`, never applied over a later STOP.
 */
export async function recordLateEntry(
  sql: Sql,
  e: { sid: string; msisdn: string; direction: ConsentDirection; senders: string[]; logId: string; viaNumber: string | null },
): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${consentLockKey(e.sid, e.msisdn)}))`;
    const [later] = await tx`SELECT 1 AS found FROM consent_ledger WHERE sid = ${e.sid} AND msisdn = ${e.msisdn} LIMIT 1`;
    await tx`
      INSERT INTO consent_ledger (sid, msisdn, direction, senders, cause, log_id, keyword, channel, via_number, status, reason, applied_at)
      SELECT ${e.sid}, ${e.msisdn}, ${e.direction}, ${e.senders}::text[], 'mo', ${e.logId},
             (SELECT keyword FROM inbound_messages WHERE id = ${e.logId}), NULL, ${e.viaNumber},
             ${later ? 'skipped' : 'pending'}, ${later ? LATE_SUPERSEDED : null}, ${later ? new Date() : null}
      ON CONFLICT (log_id, sid) DO NOTHING`;
  });
}

/**
 * An account's ledger, newest first, optionally one customer's (SPEC §5.1 history and export);
 * `before`: only entries older than that id (a keyset cursor).
 */
export async function ledgerOf(sql: Sql, sid: string, q: { msisdn?: string; before?: string | null; limit: number; offset: number }): Promise<LedgerEntry[]> {
  return sql<LedgerEntry[]>`
    SELECT * FROM consent_ledger WHERE sid = ${sid}
    ${q.msisdn ? sql`AND msisdn = ${q.msisdn}` : sql``}
    ${q.before ? sql`AND id < ${q.before}` : sql``}
    ORDER BY id DESC LIMIT ${q.limit} OFFSET ${q.offset}`;
}
