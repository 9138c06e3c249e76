import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { startInboundRun } from '../runtime/temporal.js';

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
        await startInboundRun(deps.temporal, deps.config, row);
      } catch {
        break;
      }
      await tx`UPDATE inbound_messages SET dispatch_state = 'started', dispatched_at = now() WHERE id = ${row.id}`;
      started++;
    }
  });
  return started;
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
