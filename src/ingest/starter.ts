import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { errorChain, isTemporalUnreachable, startInboundRun, type StartableMessage } from '../runtime/temporal.js';

type Job = { m: StartableMessage; key: string };

/**
 * Starts stored messages' runs in the background, so that ingest answers as soon as the
 * message is stored (SPEC §5 asks no more). At most `concurrency` starts are in flight and
 * `maxQueued` wait; beyond that, and while Temporal is unreachable, messages are left to the
 * dispatcher, which starts every pending message in order. Starts with the same key (one
 * customer on one number) run one after another, in the order they were queued. Nothing here
 * can lose a message: the row in PostgreSQL stays `pending` until a start is confirmed.
 */
export class RunStarter {
  private queue: Job[] = [];
  private inFlight = 0;
  private busyKeys = new Set<string>();
  private tracked = new Set<string>();
  private unreachableUntil = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly deps: { sql: Sql; temporal: Client; config: Config; log?: (line: string) => void },
    private readonly concurrency = 32,
    private readonly maxQueued = 5000,
  ) {}

  /** Queues a start behind earlier ones with the same key; false when left to the dispatcher. */
  enqueue(m: StartableMessage, key: string = m.id): boolean {
    if (this.unreachableUntil > Date.now() || this.queue.length >= this.maxQueued) return false;
    this.queue.push({ m, key });
    this.tracked.add(m.id);
    this.pump();
    return true;
  }

  /** Whether this starter holds the message (queued or being started). */
  holds(id: string): boolean {
    return this.tracked.has(id);
  }

  /** Resolves once nothing is queued or in flight (for shutdown and tests). */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private pump(): void {
    for (let i = 0; i < this.queue.length && this.inFlight < this.concurrency; ) {
      const job = this.queue[i]!;
      if (this.busyKeys.has(job.key)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.busyKeys.add(job.key);
      this.inFlight++;
      void this.start(job.m).finally(() => {
        this.inFlight--;
        this.busyKeys.delete(job.key);
        this.tracked.delete(job.m.id);
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
      // Unreachable: Temporal is taken to be down until the dispatcher's next tick; queued starts
      // are dropped (they stay pending in PostgreSQL) instead of each waiting out the deadline.
      // Refused: this one message is left to the dispatcher, which notes why.
      if (isTemporalUnreachable(err)) {
        this.unreachableUntil = Date.now() + config.dispatchIntervalMs;
        for (const job of this.queue) this.tracked.delete(job.m.id);
        this.queue = [];
      }
      this.deps.log?.(`workflow start for ${m.id} deferred to the dispatcher: ${errorChain(err)}`);
    }
  }
}
