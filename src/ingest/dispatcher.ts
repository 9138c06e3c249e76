import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { ensureSearchAttributes, errorChain, isTemporalUnreachable, startInboundRun } from '../runtime/temporal.js';

type PendingRow = { id: string; sid: string; recipient: string; keyword: string | null; outcome: string };

/**
 * Starts stored messages whose run has not been confirmed, oldest first. Rows are locked with
 * SKIP LOCKED so several API processes can dispatch side by side; a failed start stops the
 * batch so that order is kept and the next tick tries again.
 */
export async function dispatchPending(deps: { sql: Sql; temporal: Client; config: Config }, batch = 100): Promise<number> {
  let started = 0;
  await deps.sql.begin(async (tx) => {
    const rows = await tx<PendingRow[]>`
      SELECT id, sid, recipient, keyword, outcome FROM inbound_messages
      WHERE dispatch_state = 'pending' ORDER BY seq LIMIT ${batch} FOR UPDATE SKIP LOCKED`;
    for (const row of rows) {
      try {
        await startWithRepair(deps, row);
      } catch (err) {
        // Unreachable: stop here, so that order is kept, and try again next tick. Refused:
        // note why and go on, so one message Temporal will not take cannot hold the queue.
        if (isTemporalUnreachable(err)) break;
        const error = errorChain(err);
        await tx`UPDATE inbound_messages SET dispatch_attempts = dispatch_attempts + 1, dispatch_error = ${error.slice(0, 1000)}
                 WHERE id = ${row.id}`;
        continue;
      }
      await tx`UPDATE inbound_messages SET dispatch_state = 'started', dispatched_at = now(), dispatch_error = NULL WHERE id = ${row.id}`;
      started++;
    }
  });
  return started;
}

/**
 * A namespace that lost (or never had) the project's search attributes refuses every start;
 * registering them is safe to repeat, so the dispatcher does it and tries once more.
 */
async function startWithRepair(deps: { temporal: Client; config: Config }, row: PendingRow): Promise<void> {
  try {
    await startInboundRun(deps.temporal, deps.config, row);
  } catch (err) {
    if (!/search attribute/i.test(errorChain(err))) throw err;
    await ensureSearchAttributes(deps.temporal.connection, deps.config.temporal.namespace);
    await startInboundRun(deps.temporal, deps.config, row);
  }
}

export type Dispatcher = { stop: () => Promise<void> };

export function startDispatcher(deps: { sql: Sql; temporal: Client; config: Config; log?: (line: string) => void }): Dispatcher {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      const n = await dispatchPending(deps);
      if (n > 0) deps.log?.(`dispatcher started ${n} stored message(s)`);
    } catch (err) {
      deps.log?.(`dispatcher: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(tick);
  }, deps.config.dispatchIntervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
