import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { ensureSearchAttributes, errorChain, isTemporalUnreachable, startInboundRun } from '../runtime/temporal.js';

type PendingRow = { id: string; sid: string; recipient: string; keyword: string | null; outcome: string };

/**
 * Starts stored messages whose run has not been confirmed, oldest first. One dispatcher works
 * at a time across every API process (a transaction-level advisory lock; the others skip the
 * tick), so messages start in arrival order, a customer's included. A failed start of an
 * unreachable Temporal stops the batch so that order is kept and the next tick tries again.
 */
export async function dispatchPending(deps: { sql: Sql; temporal: Client; config: Config }, batch = 100): Promise<number> {
  let started = 0;
  await deps.sql.begin(async (tx) => {
    const [lock] = await tx<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(7410002) AS ok`;
    if (!lock?.ok) return;
    // Messages Temporal refused before go last, so they cannot crowd out the rest.
    const rows = await tx<PendingRow[]>`
      SELECT id, sid, recipient, keyword, outcome FROM inbound_messages
      WHERE dispatch_state = 'pending' ORDER BY dispatch_attempts, seq LIMIT ${batch}`;
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
      // Batches go on while they start something, so a backlog drains within a tick.
      let n = 0;
      for (let round = 0, started = 1; started > 0 && round < 50 && !stopped; round++) {
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
  }, deps.config.dispatchIntervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
