import type { Sql } from '../db/sql.js';

/** How many MOs (with their actions, outbox rows, deliveries and attempts) one batch prunes. */
export const RETENTION_BATCH = 500;

/**
 * RETENTION_DAYS (SPEC §9): MOs older than the cut-off, with everything recorded about them,
 * go in batches; so do send-API outbox rows (no MO) older than it. An MO whose run may still
 * act (pending, or started and not finished) is kept whatever its age.
 */
export function createRetentionActivities({ sql }: { sql: Sql }) {
  return {
    /** Prunes one batch; answers how many rows it removed (fewer than a batch: nothing is left). */
    async pruneBatch(input: { olderThan: string; batch?: number }): Promise<number> {
      const batch = input.batch ?? RETENTION_BATCH;
      // One statement: the children go with their MO, and foreign keys are checked at its end.
      const [mos] = await sql<{ n: number }[]>`
        WITH doomed AS (
          SELECT id FROM inbound_messages
          WHERE created_at < ${input.olderThan}::timestamptz
            AND (dispatch_state = 'none' OR run_status IN ('completed', 'config_deleted'))
          ORDER BY seq LIMIT ${batch}
        ), attempts AS (
          DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE log_id IN (SELECT id FROM doomed))
        ), deliveries AS (
          DELETE FROM deliveries WHERE log_id IN (SELECT id FROM doomed)
        ), actions AS (
          DELETE FROM message_actions WHERE log_id IN (SELECT id FROM doomed)
        ), outbox AS (
          DELETE FROM outbox WHERE log_id IN (SELECT id FROM doomed)
        ), gone AS (
          DELETE FROM inbound_messages WHERE id IN (SELECT id FROM doomed) RETURNING 1
        )
        SELECT count(*)::int AS n FROM gone`;
      const [sends] = await sql<{ n: number }[]>`
        WITH gone AS (
          DELETE FROM outbox WHERE id IN (
            SELECT id FROM outbox WHERE log_id IS NULL AND created_at < ${input.olderThan}::timestamptz ORDER BY seq LIMIT ${batch})
          RETURNING 1
        )
        SELECT count(*)::int AS n FROM gone`;
      return Math.max(mos!.n, sends!.n);
    },
  };
}
