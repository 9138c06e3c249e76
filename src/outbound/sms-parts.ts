import { createHash } from 'node:crypto';
import type { Sql } from '../db/sql.js';
import { recordSentPart } from './delivery-reports.js';
import type { SendProgress } from './sms-providers.js';

/** What an earlier attempt left on the outbox row of an SMS sent in parts. */
export type PartsSoFar = {
  provider_part_ids: string[] | null; provider_connection_id: string | null; provider_parts: number | null; concat_ref: number | null;
};

/**
 * The outbox's side of an SMS sent in parts (SPEC §8, SMPP): each part's SMSC id is recorded
 * as its submit_sm_resp comes (recordSentPart), so a receipt finds the SMS from its first part
 * on and a later attempt resumes after the parts already accepted; the concatenation reference
 * is allocated once per SMS and kept on the row, so a resend's parts join with the first's.
 */
export function sendProgress(sql: Sql, outboxId: string, to: string, before: PartsSoFar | null): SendProgress {
  let ref = before?.concat_ref ?? null;
  return {
    accepted: before?.provider_part_ids ?? [],
    connectionId: before?.provider_connection_id ?? null,
    total: before?.provider_parts ?? null,
    async concatRef() {
      ref ??= await allocateConcatRef(sql, outboxId, to);
      return ref;
    },
    partsAccepted: (p) => recordSentPart(sql, { outboxId, ...p }),
  };
}

/** An 8-bit concatenation reference read from an SMS's outbox id: the same on every resend. */
export const refFromId = (outboxId: string) => createHash('sha256').update(outboxId).digest()[0]!;

/**
 * The next 8-bit concatenation reference for a long SMS to `to` (a counter per destination in
 * PostgreSQL, shared by every sending process), stored on the SMS's row unless it has one:
 * SMS in flight to one handset never share a reference, which a handset would take for parts
 * of one message, until 256 of them are. A destination's first reference is taken from the
 * outbox id, so destinations do not all start at 0.
 */
export async function allocateConcatRef(sql: Sql, outboxId: string, to: string): Promise<number> {
  const seed = refFromId(outboxId);
  const [row] = await sql<{ concat_ref: number | null; allocated: number }[]>`
    WITH next AS (
      INSERT INTO smpp_concat_refs (destination, last_ref) VALUES (${to}, ${seed})
      ON CONFLICT (destination) DO UPDATE SET last_ref = (smpp_concat_refs.last_ref + 1) % 256, updated_at = now()
      RETURNING last_ref
    ), kept AS (
      UPDATE outbox SET concat_ref = coalesce(concat_ref, (SELECT last_ref FROM next)) WHERE id = ${outboxId} RETURNING concat_ref
    )
    SELECT (SELECT concat_ref FROM kept) AS concat_ref, (SELECT last_ref FROM next) AS allocated`;
  return row!.concat_ref ?? row!.allocated;
}

/** Forgets destinations no long SMS went to for a day: their next SMS may start anywhere. */
export async function pruneConcatRefs(sql: Sql, olderThanMs = 86_400_000): Promise<void> {
  await sql`DELETE FROM smpp_concat_refs WHERE updated_at < now() - ${`${Math.ceil(olderThanMs / 1000)} seconds`}::interval`;
}
