import { proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { fairnessPriority } from '../domain/fairness.js';
import { activitySummary } from '../domain/run-summary.js';
import { errorTypes, failedAttempt, failureMessage, type AttemptOutcome, type DeliveryResult, type WebhookPolicy, type WebhookRequest } from './definitions.js';

type Activities = ReturnType<typeof createActivities>;

/**
 * Bookkeeping in PostgreSQL (read the plan, record statuses) runs as local activities: short,
 * idempotent, and without a round trip through the Temporal server for each one.
 */
const store = proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds', summary: activitySummary.failDelivery() });

/**
 * Sends one webhook delivery to the end, for the message run and for replays alike. SPEC §5:
 * retried with exponential backoff for WEBHOOK_RETRY_HOURS; a final 4xx stops at once.
 *
 * The first attempt is a local activity (or was made by `startRun`, which hands over its
 * outcome): most endpoints answer 2xx at once, and then the delivery costs the Temporal server
 * no activity task, no events and no extra workflow task. Only when it fails does the
 * delivery go on as a regular activity under the long retry policy, after the same first
 * backoff (or the endpoint's Retry-After). Every attempt, the first included, is recorded by
 * the activity itself.
 */
export async function runDelivery(
  req: WebhookRequest,
  policy: WebhookPolicy,
  firstAttempt?: AttemptOutcome,
): Promise<'succeeded' | 'failed' | 'skipped'> {
  const { retryHours, initialIntervalSeconds, timeoutSeconds } = policy;
  // One attempt may take a token request and a request, twice (a 401 refetches the token once).
  const attemptTimeout = `${timeoutSeconds * 4 + 10} seconds`;
  // Summarised by the host alone: a URL's path or query may carry a secret.
  const summary = activitySummary.webhook(req.url);
  const local = proxyLocalActivities<Activities>({ startToCloseTimeout: attemptTimeout, retry: { maximumAttempts: 1 }, summary });
  const first = firstAttempt ?? (await attemptLocally(local.deliverWebhook, req, errorTypes.webhookRejected));
  if (first.ok) return (first.result as DeliveryResult).status;
  if (first.final) {
    await store.failDelivery(req, first.message);
    return 'failed';
  }
  // Handed over (the call outlasted the local budget, or the account is at its cap): the
  // regular activity goes on at once; otherwise after the first backoff.
  if (!first.handOver) await sleep(first.retryAfterMs ?? initialIntervalSeconds * 1000);
  const webhook = proxyActivities<Activities>({
    startToCloseTimeout: attemptTimeout,
    scheduleToCloseTimeout: `${retryHours} hours`,
    retry: {
      // The local attempt and the wait after it were the first round of the backoff.
      initialInterval: `${initialIntervalSeconds * 2} seconds`,
      backoffCoefficient: 2,
      maximumInterval: '1 hour',
      nonRetryableErrorTypes: [errorTypes.webhookRejected],
    },
    summary,
    // SPEC §5.2: the account's share of the workers (a replay's run has no key of its own).
    priority: fairnessPriority(req.sid),
  });
  try {
    const result = await webhook.deliverWebhook(req);
    return result.status;
  } catch (err) {
    await store.failDelivery(req, failureMessage(err));
    return 'failed';
  }
}

/** One attempt as a local activity, its outcome as data (as `startRun` hands it over). */
export async function attemptLocally<A, R>(local: (a: A) => Promise<R>, arg: A, finalType: string): Promise<AttemptOutcome<R>> {
  try {
    return { ok: true, result: await local(arg) };
  } catch (err) {
    return failedAttempt(err, finalType);
  }
}
