import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import { activitySummary } from '../domain/run-summary.js';
import type { ReplayDeliveryInput } from './definitions.js';
import { runDelivery } from './delivery.js';

type Activities = ReturnType<typeof createActivities>;

const store = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', summary: activitySummary.loadDelivery() });

/**
 * Sends a stored delivery again (SPEC §6): the same request and the same delivery id, so the
 * receiver can deduplicate; signature, timestamp and authentication are fresh.
 */
export async function replayDelivery(input: ReplayDeliveryInput): Promise<'succeeded' | 'failed' | 'skipped' | 'missing'> {
  const req = await store.loadDeliveryRequest(input.deliveryId);
  if (!req) return 'missing';
  return runDelivery(req, input.webhook);
}
