import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { FairQueue } from '../domain/fair-queue.js';
import { shareOf } from '../domain/fairness.js';
import { withLogFields, type Log } from '../runtime/logger.js';
import { metrics } from '../runtime/metrics.js';
import { ensureSearchAttributes, errorChain, isTemporalUnreachable, startInboundRun, type StartableMessage } from '../runtime/temporal.js';
import { workflowIdFor } from '../workflows/definitions.js';

/** How many started message ids `holds` remembers after their rows say `started`. */
const RECENT = 10_000;

/** The key one customer's starts share (their number and the number they texted): started in order. */
export function customerKey(m: { recipient: string; source: string }): string {
  return `${m.recipient} ${m.source}`;
}


/**
 * Whether ingest is saturated: `busyAt` or more authenticated ingest requests being answered
 * at once, as during a burst. It stays so for `holdMs` after the last time that was seen, so
 * that the gaps between a burst's batches do not count as quiet. The starter yields to a
 * saturated ingest.
 */
export class IngestLoad {
  private active = 0;
  private busyUntil = 0;
  private busySince = 0;

  constructor(
    private readonly busyAt = 8,
    private readonly holdMs = 250,
  ) {}

  enter(): void {
    if (++this.active < this.busyAt) return;
    const now = Date.now();
    if (this.busyUntil < now) this.busySince = now;
    this.busyUntil = now + this.holdMs;
  }

  leave(): void {
    this.active--;
  }

  /** null when not saturated; else since when, and until when unless seen again (ms). */
  saturation(): { since: number; until: number } | null {
    return this.busyUntil > Date.now() ? { since: this.busySince, until: this.busyUntil } : null;
  }
}

export type StarterDeps = {
  sql: Sql;
  temporal: Client;
  config: Config;
  log?: Log;
  /** the client shares a NativeConnection with a worker of this process (eager workflow start) */
  eagerStart?: boolean;
  load?: IngestLoad;
};

export type StarterOptions = {
  /** starts in flight when ingest is not saturated */
  concurrency?: number;
  /** starts in flight while ingest is saturated: a burst is acknowledged first */
  busyConcurrency?: number;
  /** starts in flight once ingest has been saturated for `sustainedAfterMs`: runs never freeze */
  sustainedConcurrency?: number;
  sustainedAfterMs?: number;
  /** starts that may wait in memory; beyond, messages stay pending for the dispatcher */
  maxQueued?: number;
};

/**
 * The one path that starts message runs. Ingest hands it each stored message, so the run
 * starts right after the 202; the dispatcher hands it stored messages nobody is starting
 * (stored while Temporal was down, past `maxQueued`, or by a process that died). Starts with
 * the same key (one customer on one number) run one after another, in the order queued;
 * accounts take turns (`FairQueue`, SPEC §5.2), so one account's burst delays its own starts
 * and not another account's.
 *
 * While ingest is saturated (`IngestLoad`: a burst is arriving) at most `busyConcurrency`
 * starts are in flight, none by default, and `sustainedConcurrency` (4) once that has lasted
 * `sustainedAfterMs` (2 s), so that runs never freeze under sustained load: starting a run costs the Temporal
 * server (and, with a worker in this process, this process) far more than storing a message,
 * and must not slow the acknowledgement of a burst. Steady traffic that ingest keeps up with
 * never holds starts back. Memory is bounded
 * by `maxQueued`: the messages themselves wait in PostgreSQL, `pending` until a start is
 * confirmed, so nothing here can lose one.
 */
export class RunStarter {
  /** accounts served in turn (SPEC §5.2), each first-in first-out, a customer's starts in order */
  private queue = new FairQueue<StartableMessage>();
  private inFlight = 0;
  private pumpScheduled = false;
  private recheck: NodeJS.Timeout | null = null;
  private tracked = new Set<string>();
  private waiters = new Map<string, (() => void)[]>();
  private recent = new Set<string>();
  private unreachableUntil = 0;
  private idle: (() => void)[] = [];
  private started: string[] = [];
  private marking: Promise<void> | null = null;
  private readonly opts: Required<StarterOptions>;

  constructor(
    private readonly deps: StarterDeps,
    opts: StarterOptions = {},
  ) {
    this.opts = { concurrency: 32, busyConcurrency: 0, sustainedConcurrency: 4, sustainedAfterMs: 2000, maxQueued: 5000, ...opts };
  }

  /**
   * Queues a start behind earlier ones with the same key; false when left to the dispatcher.
   * `ordered` starts (the dispatcher's backlog) also wait for every ordered start of their
   * account queued before them, whatever its key. Accounts take turns: one account's burst
   * queues behind itself, not in front of the others.
   */
  enqueue(m: StartableMessage, key: string = m.id, ordered = false): boolean {
    if (this.tracked.has(m.id)) return true;
    if (this.unreachableUntil > Date.now() || this.queue.size >= this.opts.maxQueued) return false;
    this.queue.push(m, { share: shareOf(m.sid), key, ordered });
    this.tracked.add(m.id);
    metrics.runStartQueued.inc();
    this.schedulePump();
    return true;
  }

  /** Resolves once the message is no longer queued or being started (started, refused or dropped). */
  released(id: string): Promise<void> {
    if (!this.tracked.has(id)) return Promise.resolve();
    return new Promise((r) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), r]));
  }

  /** Whether the message is queued or being started here. */
  queued(id: string): boolean {
    return this.tracked.has(id);
  }

  private release(id: string): void {
    if (this.tracked.delete(id)) metrics.runStartQueued.dec();
    const waiters = this.waiters.get(id);
    if (!waiters) return;
    this.waiters.delete(id);
    for (const w of waiters) w();
  }

  /**
   * Whether this starter holds the message (queued or being started) or started it lately.
   * A started message may still read as `pending` to a statement whose snapshot was taken
   * before its row was updated; the customer's next message must not wait for the
   * dispatcher behind it.
   */
  holds(id: string): boolean {
    return this.tracked.has(id) || this.recent.has(id);
  }

  /** Whether Temporal was found unreachable within the last dispatch interval. */
  get unreachable(): boolean {
    return this.unreachableUntil > Date.now();
  }

  /** Resolves once nothing is queued or in flight, and every confirmed start is recorded. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.queue.size === 0 && this.started.length === 0 && this.marking === null;
  }

  private limit(): number {
    const busy = this.deps.load?.saturation();
    if (!busy) return this.opts.concurrency;
    const now = Date.now();
    const sustained = busy.since + this.opts.sustainedAfterMs;
    // Held back: look again when ingest may have calmed down, or held back long enough.
    if (!this.recheck && this.queue.size > 0 && now < sustained) {
      this.recheck = setTimeout(() => {
        this.recheck = null;
        this.pump();
      }, Math.min(busy.until, sustained) - now + 1);
    }
    return now < sustained ? this.opts.busyConcurrency : this.opts.sustainedConcurrency;
  }

  /**
   * Starts go once the current I/O is done: the request that queued one gets its answer
   * written first, instead of after the start's encoding and, under eager start, its first
   * workflow task.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.limit()) {
      const job = this.queue.take();
      if (!job) return;
      this.inFlight++;
      // The start's lines name its MO, not the request whose message set the pump off.
      const ids = { moId: job.item.id, workflowId: workflowIdFor(job.item.id) };
      void withLogFields(ids, () => this.start(job.item, job.lane.ordered ? 'dispatcher' : 'ingest'), { fresh: true }).finally(() => {
        this.inFlight--;
        this.queue.done(job.lane);
        this.pump();
        this.settle();
      });
    }
  }

  private settle(): void {
    if (this.isIdle()) this.idle.splice(0).forEach((r) => r());
  }

  private async start(m: StartableMessage, path: 'ingest' | 'dispatcher'): Promise<void> {
    if (this.unreachable) {
      this.release(m.id);
      return;
    }
    const { config } = this.deps;
    try {
      await startWithRepair(this.deps, m);
    } catch (err) {
      metrics.runStarts.inc({ result: isTemporalUnreachable(err) ? 'unreachable' : 'refused', path });
      // Unreachable: Temporal is taken to be down until the dispatcher's next tick; queued starts
      // are dropped (they stay pending in PostgreSQL) instead of each waiting out the deadline.
      // Refused: noted on the message, which the dispatcher tries again after the others.
      if (isTemporalUnreachable(err)) {
        this.unreachableUntil = Date.now() + config.dispatchIntervalMs;
        for (const dropped of this.queue.clear()) this.release(dropped.id);
        this.release(m.id);
        this.deps.log?.(`Temporal unreachable; stored messages wait for the dispatcher: ${errorChain(err)}`, { level: 'warn' });
        return;
      }
      const error = errorChain(err);
      this.deps.log?.(`workflow start for ${m.id} refused: ${error}`, { level: 'warn' });
      await this.deps.sql`
        UPDATE inbound_messages SET dispatch_attempts = dispatch_attempts + 1, dispatch_error = ${error.slice(0, 1000)}
        WHERE id = ${m.id}`.catch(() => {});
      this.release(m.id);
      return;
    }
    metrics.runStarts.inc({ result: 'started', path });
    if (m.storedAt) metrics.runStartDelay.observe({ path }, Math.max(0, Date.now() - m.storedAt.getTime()) / 1000);
    this.started.push(m.id);
    this.recent.add(m.id);
    // The last RECENT starts are remembered; a Set iterates in insertion order.
    if (this.recent.size > RECENT) this.recent.delete(this.recent.values().next().value!);
    this.markStarted();
  }

  /**
   * Confirmed starts are recorded in batches: one UPDATE for all that were confirmed while the
   * previous one ran. A start confirmed but not recorded (the process died) is started again
   * later, which Temporal answers as already started.
   */
  private markStarted(): void {
    if (this.marking || this.started.length === 0) return;
    const ids = this.started.splice(0);
    this.marking = this.deps.sql`
      UPDATE inbound_messages SET dispatch_state = 'started', dispatched_at = now(), dispatch_error = NULL
      WHERE id = ANY(${ids}::text[]) AND dispatch_state = 'pending'`
      .then(() => {}, (err) => this.deps.log?.(`recording ${ids.length} started run(s) failed; the dispatcher will confirm them: ${String(err)}`, { level: 'warn' }))
      .finally(() => {
        for (const id of ids) this.release(id);
        this.marking = null;
        this.markStarted();
        this.settle();
      });
  }
}

/**
 * A namespace that lost (or never had) the project's search attributes refuses every start;
 * registering them is safe to repeat, so the start does it and tries once more.
 */
async function startWithRepair(deps: StarterDeps, m: StartableMessage): Promise<void> {
  const opts = { eagerStart: deps.eagerStart ?? false };
  try {
    await startInboundRun(deps.temporal, deps.config, m, opts);
  } catch (err) {
    if (!/search attribute/i.test(errorChain(err))) throw err;
    await ensureSearchAttributes(deps.temporal.connection, deps.config.temporal.namespace);
    await startInboundRun(deps.temporal, deps.config, m, opts);
  }
}
