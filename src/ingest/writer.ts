import type { Sql } from '../db/sql.js';
import { consentLockKey, type ConsentChannel, type ConsentEntry } from '../domain/consent.js';

/** One matched MO as ingest stores it. */
export type NewMessage = {
  id: string; sid: string | null; source: string; recipient: string; message: string;
  operator: string | null; circle: string | null; receivedAt: Date; keyword: string | null;
  outcome: string; configId: string | null; matchedWords: number; workflowId: string | null; needsRun: boolean;
  /** what was odd about the carrier's metadata (SPEC §5: stored with a note, not refused) */
  notes: string[];
  /** the gateway that delivered it (SPEC §5); null: the default gateway */
  gatewayId: string | null;
  /** SPEC §5.1: the consent changes it makes, written in its own commit (none for most MOs) */
  consent?: ConsentEntry[];
  /** how it came, for the consent ledger */
  channel?: ConsentChannel;
};

export type StoredMessage = {
  id: string; seq: string; sid: string | null; recipient: string; keyword: string | null; outcome: string;
  config_id: string | null; workflow_id: string | null; dispatch_state: string;
};

/**
 * inserted: this request stored it; `newestOlderPending` is the newest of the same customer's
 * older messages on that number still waiting for their run to start, if any. duplicate: the
 * carrier id was stored before; the first answer stands.
 */
export type WriteResult =
  | { inserted: true; row: StoredMessage; newestOlderPending: string | null }
  | { inserted: false; row: StoredMessage };

type Pending = { m: NewMessage; resolve: (r: WriteResult) => void; reject: (e: unknown) => void };

/**
 * Group commit for ingest: requests that arrive while a write is in flight are stored
 * together by the next one, in a single INSERT and a single commit. Under no load a message
 * is written at once (a batch of one); under a burst batches grow, and PostgreSQL does one
 * round trip and one WAL flush per batch instead of per message. Each caller still gets its
 * answer only once its own row is committed.
 */
export class MessageWriter {
  private queue: Pending[] = [];
  private writing = false;

  constructor(
    private readonly sql: Sql,
    private readonly opts: { maxBatch?: number } = {},
  ) {}

  write(m: NewMessage): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ m, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    // One batch at a time: the next one sees every row of the last committed, so a customer's
    // older message is always known to the statement storing their newer one.
    if (this.writing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch ?? 256);
    this.writing = true;
    void this.store(batch).finally(() => {
      this.writing = false;
      this.flush();
    });
  }

  private async store(batch: Pending[]): Promise<void> {
    try {
      settle(batch, await insertMessages(this.sql, batch.map((p) => p.m)));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // One row PostgreSQL will not take must not fail the others: each goes alone, in order.
      for (const p of batch) {
        try {
          settle([p], await insertMessages(this.sql, [p.m]));
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }
}

function settle(batch: Pending[], results: Map<string, WriteResult>): void {
  const answered = new Set<string>();
  for (const p of batch) {
    const r = results.get(p.m.id)!;
    // The same carrier id twice in one batch: the first request stored it, the second is a repeat.
    p.resolve(answered.has(p.m.id) && r.inserted ? { inserted: false, row: r.row } : r);
    answered.add(p.m.id);
  }
}

/**
 * One statement stores the batch; rows whose id exists already are left as they are and
 * read back instead. Alongside, for each new message that needs a run, the newest of the same
 * customer's older messages on that number still waiting to start: one index probe (the
 * CTE's snapshot does not include the rows it inserts, so only earlier statements' rows count).
 */
async function insertMessages(sql: Sql, ms: NewMessage[]): Promise<Map<string, WriteResult>> {
  // SPEC §5.1: each consent change beside its message, by the message's place in the batch.
  const consent = ms.flatMap((m, i) => (m.consent ?? []).map((c) => ({
    ord: i + 1, sid: c.sid, msisdn: c.msisdn, direction: c.direction, senders: c.senders, keyword: m.keyword, channel: m.channel ?? 'http', via_number: m.recipient,
  })));
  if (consent.length === 0) return insertStatement(sql, ms, consent);
  // A ledger entry's id is its place in arrival order: it must be taken and committed while no
  // other process stores a change of the same customer, or a STOP given id 10 and committed
  // after a START given 11 would be outranked by it. The customers' locks (applyConsent's), in
  // one order, for the statement's transaction; only batches that carry a change take them.
  return sql.begin(async (tx) => {
    const keys = [...new Set(consent.map((c) => consentLockKey(c.sid, c.msisdn)))].sort();
    await tx`SELECT pg_advisory_xact_lock(hashtext(k)) FROM unnest(${keys}::text[]) WITH ORDINALITY AS t (k, i) ORDER BY i`;
    return insertStatement(tx as unknown as Sql, ms, consent);
  });
}

async function insertStatement(sql: Sql, ms: NewMessage[], consent: Record<string, unknown>[]): Promise<Map<string, WriteResult>> {
  const col = <T>(f: (m: NewMessage) => T) => ms.map(f);
  const rows = await sql<(StoredMessage & { older: string | null })[]>`
    WITH input AS (
      SELECT * FROM unnest(
        ${col((m) => m.id)}::text[], ${col((m) => m.sid)}::text[], ${col((m) => m.source)}::text[],
        ${col((m) => m.recipient)}::text[], ${col((m) => m.message)}::text[], ${col((m) => m.operator)}::text[],
        ${col((m) => m.circle)}::text[], ${col((m) => m.receivedAt.toISOString())}::timestamptz[], ${col((m) => m.keyword)}::text[],
        ${col((m) => m.outcome)}::text[], ${col((m) => m.configId)}::uuid[], ${col((m) => m.matchedWords)}::int[],
        ${col((m) => m.workflowId)}::text[], ${col((m) => (m.needsRun ? 'pending' : 'none'))}::text[],
        ${col((m) => (m.notes.length ? JSON.stringify(m.notes) : null))}::text[], ${col((m) => m.gatewayId)}::uuid[]
      ) WITH ORDINALITY AS i (id, sid, source, recipient, message, operator, circle, received_at, keyword, outcome,
                              config_id, matched_words, workflow_id, dispatch_state, notes, gateway_id, ord)
    ), ins AS (
      INSERT INTO inbound_messages (id, sid, source, recipient, message, operator, circle, received_at,
                                    keyword, outcome, config_id, matched_words, workflow_id, dispatch_state, ingest_notes, gateway_id)
      SELECT id, sid, source, recipient, message, operator, circle, received_at,
             keyword, outcome, config_id, matched_words, workflow_id, dispatch_state,
             coalesce(ARRAY(SELECT jsonb_array_elements_text(notes::jsonb)), '{}'), gateway_id
      FROM input ORDER BY ord
      ON CONFLICT (id) DO NOTHING
      RETURNING id, seq, sid, recipient, source, keyword, outcome, config_id, workflow_id, dispatch_state
    ), consent AS (
      -- The ledger entries of the messages this statement stored (a repeat writes none), in
      -- arrival order: their ids are the order consent changes apply in.
      INSERT INTO consent_ledger (sid, msisdn, direction, senders, cause, log_id, keyword, channel, via_number)
      SELECT c.sid, c.msisdn, c.direction, c.senders, 'mo', ins.id, c.keyword, c.channel, c.via_number
      FROM jsonb_to_recordset(${consent.length ? sql.json(consent as never) : null}::jsonb)
           AS c (ord int, sid text, msisdn text, direction text, senders text[], keyword text, channel text, via_number text)
      -- The same carrier id twice in one batch is stored once: only its first copy's change counts.
      JOIN (SELECT DISTINCT ON (id) id, ord FROM input ORDER BY id, ord) first ON first.ord = c.ord
      JOIN ins ON ins.id = first.id
      ORDER BY c.ord, c.sid
    )
    SELECT ins.id, ins.seq, ins.sid, ins.recipient, ins.keyword, ins.outcome, ins.config_id, ins.workflow_id,
           ins.dispatch_state, true AS inserted,
           CASE WHEN ins.dispatch_state = 'pending' THEN (
             SELECT p.id FROM inbound_messages p
             WHERE p.dispatch_state = 'pending' AND p.recipient = ins.recipient AND p.source = ins.source
             ORDER BY p.seq DESC LIMIT 1) END AS older
    FROM ins
    UNION ALL
    SELECT m.id, m.seq, m.sid, m.recipient, m.keyword, m.outcome, m.config_id, m.workflow_id,
           m.dispatch_state, false, NULL
    FROM inbound_messages m
    WHERE m.id IN (SELECT id FROM input) AND m.id NOT IN (SELECT id FROM ins)`;
  const results = new Map<string, WriteResult>();
  for (const r of rows as unknown as (StoredMessage & { older: string | null; inserted: boolean })[]) {
    const { older, inserted, ...row } = r;
    results.set(row.id, inserted ? { inserted: true, row, newestOlderPending: older } : { inserted: false, row });
  }
  // Inserted meanwhile by a concurrent statement (ours waited for it on the conflict): its row
  // was not in our snapshot, and is read now that it is committed.
  const missing = ms.map((m) => m.id).filter((id) => !results.has(id));
  if (missing.length > 0) {
    const late = await sql<StoredMessage[]>`
      SELECT id, seq, sid, recipient, keyword, outcome, config_id, workflow_id, dispatch_state
      FROM inbound_messages WHERE id = ANY(${missing}::text[])`;
    for (const row of late) results.set(row.id, { inserted: false, row });
  }
  return results;
}
