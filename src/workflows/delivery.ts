import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
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
 */
export async function runDelivery(req: WebhookRequest, policy: WebhookPolicy): Promise<'succeeded' | 'failed' | 'skipped'> {
  const { retryHours, initialIntervalSeconds, timeoutSeconds } = policy;
  const webhook = proxyActivities<Activities>({
    // One attempt may take a token request and a request, twice (a 401 refetches the token once).
    startToCloseTimeout: `${timeoutSeconds * 4 + 10} seconds`,
    scheduleToCloseTimeout: `${retryHours} hours`,
    retry: {
      initialInterval: `${initialIntervalSeconds} seconds`,
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

export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return cause.message;
    return cause.message || cause.name;
  }
  return err instanceof Error ? err.message : String(err);
}
