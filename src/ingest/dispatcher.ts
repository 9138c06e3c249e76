import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Sql } from '../db/sql.js';
import type { Log } from '../runtime/logger.js';
import { inCustomerOrder, type InTurn } from '../domain/fair-queue.js';
import { customerKey, type RunStarter } from './starter.js';

type PendingRow = {
  id: string; sid: string | null; recipient: string; source: string; keyword: string | null; outcome: string; storedAt: Date;
  /** the newest older message of the same customer still pending and never refused, if any */
  older: string | null;
};

/** A sweep, as the holder of the dispatch lease: the host and process, for someone reading the table. */
const holderName = () => `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
/** How long the lease lasts unless renewed; renewed every third of it while a sweep goes on. */
const LEASE_SECONDS = 30;

/** Takes (or renews) the dispatch lease; true when this process holds it. One statement. */
async function takeLease(sql: Sql, holder: string): Promise<boolean> {
  const rows = await sql`
    INSERT INTO dispatch_lease (id, holder, until) VALUES (1, ${holder}, now() + ${`${LEASE_SECONDS} seconds`}::interval)
    ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, until = excluded.until
    WHERE dispatch_lease.until < now() OR dispatch_lease.holder = excluded.holder
    RETURNING holder`;
  return rows.length > 0;
}

/**
 * One sweep: hands the starter stored messages whose run has not been confirmed and that it
 * does not hold already, and waits until those are started (or refused, or Temporal is found
 * unreachable). Accounts take turns (SPEC §5.2): each account's oldest first, then each one's
 * second, and so on (`pendingInTurn`), so an account's backlog does not hold the others back.
 * Messages Temporal refused before go last in their account, so they cannot crowd out the
 * rest. A customer's messages still start in the order they came, whichever accounts they
 * went to (a shared short code). Answers how many this sweep saw started.
 *
 * Only the holder of the dispatch lease sweeps (migration 008). The lease is taken, renewed
 * and given back by single statements: no transaction and no lock is held while Temporal is
 * called, and a holder that dies or hangs loses it within LEASE_SECONDS.
 */
export async function dispatchPending(deps: { sql: Sql; starter: RunStarter }, batch = 200): Promise<number> {
  const { sql, starter } = deps;
  if (starter.unreachable) return 0;
  const holder = holderName();
  if (!(await takeLease(sql, holder))) return 0;
  const renew = setInterval(() => void takeLease(sql, holder).catch(() => {}), (LEASE_SECONDS * 1000) / 3);
  try {
    const rows = await pendingInTurn(sql, batch);
    // Ordered: an account's backlog starts in arrival order (SPEC §5), one start after another.
    const handed = inCustomerOrder(rows, customerKey, (id) => starter.holds(id))
      .filter((r) => !starter.queued(r.id))
      .filter((r) => starter.enqueue(r, customerKey(r), true))
      .map((r) => r.id);
    if (handed.length === 0) return 0;
    await Promise.all(handed.map((id) => starter.released(id)));
    const [done] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM inbound_messages WHERE id = ANY(${handed}::text[]) AND dispatch_state = 'started'`;
    return done!.n;
  } finally {
    clearInterval(renew);
    await sql`UPDATE dispatch_lease SET until = '-infinity' WHERE id = 1 AND holder = ${holder}`.catch(() => {});
  }
}

/**
 * Up to `batch` pending messages, accounts in turn: every account's first (by dispatch
 * attempts, then arrival), then every account's second, and so on. Each account's are read
 * by its own probe of `inbound_messages_pending_account` (migration 021), at most a quarter
 * batch each, so a sweep costs the same however long one account's backlog is.
 */
function pendingInTurn(sql: Sql, batch: number): Promise<(PendingRow & InTurn)[]> {
  const each = Math.ceil(batch / 4);
  return sql<(PendingRow & InTurn)[]>`
    WITH firsts AS (
      SELECT m.* FROM accounts a CROSS JOIN LATERAL (
        SELECT id, sid, recipient, source, keyword, outcome, created_at, dispatch_attempts, seq FROM inbound_messages
        WHERE dispatch_state = 'pending' AND sid = a.sid ORDER BY dispatch_attempts, seq LIMIT ${each}) m
      UNION ALL
      (SELECT id, sid, recipient, source, keyword, outcome, created_at, dispatch_attempts, seq FROM inbound_messages
       WHERE dispatch_state = 'pending' AND sid IS NULL ORDER BY dispatch_attempts, seq LIMIT ${each})
    ), turns AS (
      SELECT *, row_number() OVER (PARTITION BY sid ORDER BY dispatch_attempts, seq) AS turn FROM firsts
      ORDER BY turn, dispatch_attempts, seq LIMIT ${batch}
    )
    SELECT t.id, t.sid, t.recipient, t.source, t.keyword, t.outcome, t.created_at AS "storedAt", t.dispatch_attempts AS attempts, t.seq,
           (SELECT o.id FROM inbound_messages o
            WHERE o.dispatch_state = 'pending' AND o.recipient = t.recipient AND o.source = t.source AND o.seq < t.seq AND o.dispatch_attempts = 0
            ORDER BY o.seq DESC LIMIT 1) AS older
    FROM turns t ORDER BY t.turn, t.dispatch_attempts, t.seq`;
}

export type Dispatcher = { stop: () => Promise<void> };

/**
 * Every DISPATCH_INTERVAL_MS, sweeps until a sweep starts nothing: a backlog left by an
 * outage drains within one tick, in order.
 */
export function startDispatcher(deps: { sql: Sql; starter: RunStarter; dispatchIntervalMs: number; log?: Log }): Dispatcher {
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
      deps.log?.(`dispatcher: ${err instanceof Error ? err.message : String(err)}`, { level: 'warn' });
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
