import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { errorTypes, type WebhookPolicy, type WebhookRequest } from './definitions.js';

type Activities = ReturnType<typeof createActivities>;

/**
 * Bookkeeping in PostgreSQL (read the plan, record statuses) runs as local activities: short,
 * idempotent, and without a round trip through the Temporal server for each one.
 */
const store = proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds' });

/**
 * Sends one webhook delivery to the end, for the message run and for replays alike. SPEC §5:
 * retried with exponential backoff for WEBHOOK_RETRY_HOURS; a final 4xx stops at once.
 *
 * The first attempt is a local activity: most endpoints answer 2xx at once, and then the
 * delivery costs the Temporal server no activity task, no events and no extra workflow task.
 * Only when it fails does the delivery go on as a regular activity under the long retry
 * policy, after the same first backoff (or the endpoint's Retry-After). Every attempt, the
 * local one included, is recorded by the activity itself.
 */
export async function runDelivery(req: WebhookRequest, policy: WebhookPolicy): Promise<'succeeded' | 'failed' | 'skipped'> {
  const { retryHours, initialIntervalSeconds, timeoutSeconds } = policy;
  // One attempt may take a token request and a request, twice (a 401 refetches the token once).
  const attemptTimeout = `${timeoutSeconds * 4 + 10} seconds`;
  const first = proxyLocalActivities<Activities>({ startToCloseTimeout: attemptTimeout, retry: { maximumAttempts: 1 } });
  try {
    return (await first.deliverWebhook(req)).status;
  } catch (err) {
    if (isFinal(err, errorTypes.webhookRejected)) {
      await store.failDelivery(req, failureMessage(err));
      return 'failed';
    }
    await sleep(retryAfterOf(err) ?? initialIntervalSeconds * 1000);
  }
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
  });
  try {
    const result = await webhook.deliverWebhook(req);
    return result.status;
  } catch (err) {
    await store.failDelivery(req, failureMessage(err));
    return 'failed';
  }
}

/**
 * The activity's own error: a regular activity's failure wraps it in an ActivityFailure, a
 * local activity's arrives as it was thrown.
 */
function activityError(err: unknown): unknown {
  return err instanceof ActivityFailure ? err.cause : err;
}

/** Whether an activity failed in a way no retry can mend (a non-retryable error of `type`). */
export function isFinal(err: unknown, type: string): boolean {
  const cause = activityError(err);
  return cause instanceof ApplicationFailure && (cause.nonRetryable || cause.type === type);
}

/** The wait an endpoint asked for (Retry-After), carried in the failure's details. */
function retryAfterOf(err: unknown): number | null {
  const cause = activityError(err);
  const wait = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  return typeof wait === 'number' && wait >= 0 ? wait : null;
}

export function failureMessage(err: unknown): string {
  const cause = activityError(err) ?? err;
  if (cause instanceof ApplicationFailure) return cause.message;
  if (cause instanceof Error) return cause.message || cause.name;
  return String(cause);
}
