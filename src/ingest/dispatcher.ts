import type { Sql } from '../db/sql.js';
import { customerKey, type RunStarter } from './starter.js';

type PendingRow = { id: string; sid: string; recipient: string; source: string; keyword: string | null; outcome: string };

/** Session advisory lock: one dispatcher sweeps at a time across every API process. */
const DISPATCH_LOCK = 7410002;

/**
 * One sweep: hands the starter stored messages whose run has not been confirmed and that it
 * does not hold already, oldest first, and waits until those are started (or refused, or
 * Temporal is found unreachable). Messages Temporal refused before go last, so they cannot
 * crowd out the rest. Answers how many this sweep saw started.
 *
 * Only the holder of a session-level advisory lock sweeps; the lock is held on a connection
 * of its own for the sweep only, and no transaction stays open while Temporal is called.
 */
export async function dispatchPending(deps: { sql: Sql; starter: RunStarter }, batch = 200): Promise<number> {
  const { sql, starter } = deps;
  if (starter.unreachable) return 0;
  const conn = await sql.reserve();
  try {
    const [lock] = await conn<{ ok: boolean }[]>`SELECT pg_try_advisory_lock(${DISPATCH_LOCK}) AS ok`;
    if (!lock?.ok) return 0;
    try {
      const rows = await conn<PendingRow[]>`
        SELECT id, sid, recipient, source, keyword, outcome FROM inbound_messages
        WHERE dispatch_state = 'pending' ORDER BY dispatch_attempts, seq LIMIT ${batch}`;
      // Ordered: a backlog starts in arrival order (SPEC §5), one start after another.
      const handed = rows
        .filter((r) => !starter.queued(r.id))
        .filter((r) => starter.enqueue(r, customerKey(r), true))
        .map((r) => r.id);
      if (handed.length === 0) return 0;
      await Promise.all(handed.map((id) => starter.released(id)));
      const [done] = await conn<{ n: number }[]>`
        SELECT count(*)::int AS n FROM inbound_messages WHERE id = ANY(${handed}::text[]) AND dispatch_state = 'started'`;
      return done!.n;
    } finally {
      await conn`SELECT pg_advisory_unlock(${DISPATCH_LOCK})`;
    }
  } finally {
    conn.release();
  }
}

export type Dispatcher = { stop: () => Promise<void> };

/**
 * Every DISPATCH_INTERVAL_MS, sweeps until a sweep starts nothing: a backlog left by an
 * outage drains within one tick, in order.
 */
export function startDispatcher(deps: { sql: Sql; starter: RunStarter; dispatchIntervalMs: number; log?: (line: string) => void }): Dispatcher {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      let n = 0;
      for (let round = 0, started = 1; started > 0 && round < 100 && !stopped; round++) {
        started = await dispatchPending(deps);
        n += started;
      }
      if (n > 0) deps.log?.(`dispatcher started ${n} stored message(s)`);
    } catch (err) {
      deps.log?.(`dispatcher: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  let busy = false;
  const timer = setInterval(() => {
    // A tick still running (a long backlog) is not queued behind again.
    if (stopped || busy) return;
    busy = true;
    running = tick().finally(() => {
      busy = false;
    });
  }, deps.dispatchIntervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
