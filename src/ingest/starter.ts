import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { startInboundRun, type StartableMessage } from '../runtime/temporal.js';

/**
 * Starts stored messages' runs in the background, so that ingest answers as soon as the
 * message is stored (SPEC §5 asks no more). At most `concurrency` starts are in flight and
 * `maxQueued` wait; beyond that, and while Temporal is unreachable, messages are left to the
 * dispatcher, which starts every pending message in order. Nothing here can lose a message:
 * the row in PostgreSQL stays `pending` until a start is confirmed.
 */
export class RunStarter {
  private queue: StartableMessage[] = [];
  private inFlight = 0;
  private unreachableUntil = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly deps: { sql: Sql; temporal: Client; config: Config; log?: (line: string) => void },
    private readonly concurrency = 32,
    private readonly maxQueued = 5000,
  ) {}

  /** Queues a start; returns false when it was left to the dispatcher. */
  enqueue(m: StartableMessage): boolean {
    if (this.unreachableUntil > Date.now() || this.queue.length >= this.maxQueued) return false;
    this.queue.push(m);
    this.pump();
    return true;
  }

  /** Resolves once nothing is queued or in flight (for shutdown and tests). */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const m = this.queue.shift()!;
      this.inFlight++;
      void this.start(m).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) this.idle.splice(0).forEach((r) => r());
      });
    }
  }

  private async start(m: StartableMessage): Promise<void> {
    if (this.unreachableUntil > Date.now()) return;
    const { sql, temporal, config } = this.deps;
    try {
      await startInboundRun(temporal, config, m, 3000);
      await sql`UPDATE inbound_messages SET dispatch_state = 'started', dispatched_at = now()
                WHERE id = ${m.id} AND dispatch_state = 'pending'`;
    } catch (err) {
      // Temporal is taken to be down until the dispatcher's next tick; queued starts are dropped
      // (they stay pending in PostgreSQL) instead of each waiting out the deadline.
      this.unreachableUntil = Date.now() + config.dispatchIntervalMs;
      this.queue = [];
      this.deps.log?.(`workflow start for ${m.id} deferred to the dispatcher: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
