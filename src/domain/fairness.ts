/**
 * SPEC §5.2, "Fairness": one tenant's burst or slow webhook must not hold the others hostage.
 * The rules both the Temporal side (fairness keys) and the worker (its cap on outbound calls)
 * follow; docs/decisions.md, "Fair shares and slow endpoints".
 */

/** The share an account's work belongs to: its sid; a standard keyword on a shared short code is no one account's. */
export function shareOf(sid: string | null): string {
  return sid ?? '';
}

/**
 * The Temporal fairness key of an account's runs and activities: its sid (at most 64 bytes,
 * which sids are far from). None for work that is no one account's: it shares the default key.
 */
export function fairnessPriority(sid: string | null): { fairnessKey: string } | undefined {
  return sid ? { fairnessKey: sid } : undefined;
}

/** The shortest wait an attempt is told when its account's calls are at their cap, and the longest turn it is told to wait for. */
export const CAP_RETRY_MIN_MS = 1_000;
export const CAP_RETRY_MAX_MS = 40_000;

/**
 * How long an attempt whose account is at its cap of calls in flight waits before it tries
 * again: about its turn, were the `waiting` attempts let in `cap` at a time, each call taking
 * `typicalCallMs`, at most CAP_RETRY_MAX_MS; then spread (×0.5 to ×1.5, at least
 * CAP_RETRY_MIN_MS), so that the waiting come back one after another rather than all at once
 * while the slots freed meanwhile stay idle. Coming back often costs the Temporal server a
 * task each time; coming back late leaves a freed slot idle.
 */
export function capRetryDelayMs(o: { waiting: number; cap: number; typicalCallMs: number }, random: () => number = Math.random): number {
  const turn = Math.min(CAP_RETRY_MAX_MS, (Math.max(1, o.waiting) / Math.max(1, o.cap)) * Math.max(0, o.typicalCallMs));
  return Math.round(Math.max(CAP_RETRY_MIN_MS, turn * (0.5 + random())));
}

/**
 * The wait a retry policy gives after real attempt `attempt` (1, 2, …): attempts turned away
 * at the cap count for Temporal, not for the backoff, so a call that waited its turn and then
 * failed is retried as soon as one that never waited.
 */
export function backoffMs(policy: { initialMs: number; coefficient: number; maximumMs: number }, attempt: number): number {
  const n = Math.max(1, attempt);
  return Math.min(policy.maximumMs, policy.initialMs * policy.coefficient ** (n - 1));
}
