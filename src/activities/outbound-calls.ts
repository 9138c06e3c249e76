import { ApplicationFailure, Context } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import { backoffMs, capRetryDelayMs, CAP_RETRY_MAX_MS } from '../domain/fairness.js';
import { errorTypes } from '../workflows/definitions.js';

/** What a call that got in holds: the attempts it was turned away before, and its slot. */
export type Slot = { turnedAway: number; release: () => void };

type Waiting = { at: number; turnedAway: number };

/** How long a call turned away is remembered as waiting for its account (its next try comes sooner). */
const WAITING_MS = 2 * CAP_RETRY_MAX_MS;

/**
 * SPEC §5.2: each account's webhook and SMS provider calls in flight in this worker process,
 * at most `cap` at once (OUTBOUND_CONCURRENCY_PER_ACCOUNT; 0: no cap). A call over the cap is
 * not made and waits for nothing here: its activity fails at once, retryable, and Temporal
 * brings it back after `retryDelayMs` (docs/decisions.md, "Fair shares and slow endpoints").
 */
export class AccountCalls {
  private inFlight = new Map<string, number>();
  /** a moving average of each account's call durations, ms */
  private typical = new Map<string, number>();
  private waiting = new Map<string, Map<string, Waiting>>();

  constructor(private readonly cap: number) {}

  /** A slot for call `key` of account `sid`, or null when the account's slots are all taken. */
  enter(sid: string | null, key: string): Slot | null {
    const waited = sid ? this.waiting.get(sid)?.get(key) : undefined;
    if (sid && this.cap > 0) {
      const n = this.inFlight.get(sid) ?? 0;
      if (n >= this.cap) return null;
      this.inFlight.set(sid, n + 1);
      this.waiting.get(sid)?.delete(key);
    }
    const started = performance.now();
    let released = false;
    return {
      turnedAway: waited?.turnedAway ?? 0,
      release: () => {
        if (released || !sid || this.cap <= 0) return;
        released = true;
        const n = (this.inFlight.get(sid) ?? 1) - 1;
        if (n > 0) this.inFlight.set(sid, n);
        else this.inFlight.delete(sid);
        const ms = performance.now() - started;
        this.typical.set(sid, 0.8 * (this.typical.get(sid) ?? ms) + 0.2 * ms);
      },
    };
  }

  /** Notes call `key` as turned away and answers when it should try again, ms. */
  turnAway(sid: string, key: string): number {
    const now = Date.now();
    const waiting = this.waiting.get(sid) ?? new Map<string, Waiting>();
    this.waiting.set(sid, waiting);
    for (const [k, w] of waiting) if (now - w.at > WAITING_MS) waiting.delete(k);
    waiting.set(key, { at: now, turnedAway: (waiting.get(key)?.turnedAway ?? 0) + 1 });
    return capRetryDelayMs({ waiting: waiting.size, cap: this.cap, typicalCallMs: this.typical.get(sid) ?? 1000 });
  }

  /** Calls of the account in flight here (tests, metrics). */
  count(sid: string): number {
    return this.inFlight.get(sid) ?? 0;
  }
}

/**
 * The failure of an attempt turned away at its account's cap: retryable, back after `delayMs`.
 * A local first attempt hands over to the regular activity at once (`failedAttempt`).
 */
export function accountBusy(sid: string, delayMs: number): ApplicationFailure {
  return ApplicationFailure.create({
    message: `account ${sid} has its outbound calls in flight at the cap; tried again in ${Math.round(delayMs / 100) / 10} s`,
    type: errorTypes.accountBusy,
    nextRetryDelay: delayMs,
    // Waiting a turn is no failure: the worker logs it at debug and counts no failed attempt.
    category: ApplicationFailureCategory.BENIGN,
  });
}

/**
 * The wait the activity's own retry policy would give after this failed attempt, counting only
 * the attempts that were made (not those turned away at the cap); undefined when none was
 * turned away, or outside a regular activity: the policy then applies as it stands.
 */
export function retryDelayAfterWaiting(turnedAway: number): number | undefined {
  if (turnedAway <= 0) return undefined;
  const info = Context.current().info;
  const policy = info.retryPolicy;
  if (info.isLocal || !policy) return undefined;
  // The worker hands the policy over decompiled: its intervals in ms.
  const initialMs = typeof policy.initialInterval === 'number' ? policy.initialInterval : 1000;
  const maximumMs = typeof policy.maximumInterval === 'number' ? policy.maximumInterval : 100 * initialMs;
  return backoffMs({ initialMs, coefficient: policy.backoffCoefficient ?? 2, maximumMs }, info.attempt - turnedAway);
}

type Kept = { call: Promise<unknown>; abort: AbortController | undefined };

/** How long a call handed over stays to be taken once it has ended (its regular attempt may be on another worker). */
const KEPT_MS = 2 * 60_000;

/**
 * Local first attempts that outlast their budget (LOCAL_ATTEMPT_BUDGET_MS): the call goes on,
 * holding no workflow task, and the regular activity that follows takes it over (`adopt`),
 * so the endpoint is called once for the attempt, and the attempt recorded once, by the call
 * itself. A regular attempt on another worker finds nothing here and calls again, with the
 * same delivery id or idempotency key: the receiver, or the outbox claim, sees it is the same.
 */
export class Handovers {
  private kept = new Map<string, Kept>();

  /**
   * `call`'s outcome when it ends within `budgetMs`; otherwise the call is kept under `key`
   * and this throws a retryable `HandedOver` failure, which the workflow answers by going
   * on as the regular activity at once.
   */
  async within<T>(key: string, budgetMs: number, call: Promise<T>, abort?: AbortController): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = Symbol('late');
    const first = await Promise.race([
      call.then((value) => ({ value }), (error: unknown) => ({ error })),
      new Promise<typeof late>((r) => (timer = setTimeout(() => r(late), budgetMs))),
    ]);
    clearTimeout(timer);
    if (first !== late) {
      if ('error' in first) throw first.error;
      return first.value;
    }
    const kept: Kept = { call, abort };
    this.kept.set(key, kept);
    const forget = () => setTimeout(() => this.kept.get(key) === kept && this.kept.delete(key), KEPT_MS).unref();
    call.then(forget, forget);
    throw ApplicationFailure.create({
      message: `no answer within ${budgetMs} ms: the attempt goes on as a regular activity`,
      type: errorTypes.handedOver,
      category: ApplicationFailureCategory.BENIGN,
    });
  }

  /** The call a local attempt handed over under `key`, if this process has it; aborted if `cancelled` fires. */
  adopt<T>(key: string, cancelled: AbortSignal): Promise<T> | null {
    const kept = this.kept.get(key);
    if (!kept) return null;
    this.kept.delete(key);
    if (kept.abort) cancelled.addEventListener('abort', () => kept.abort!.abort(cancelled.reason), { once: true });
    return kept.call as Promise<T>;
  }
}
