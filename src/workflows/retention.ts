import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { RetentionInput } from './definitions.js';

type Activities = ReturnType<typeof createActivities>;

const { pruneBatch } = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', retry: { maximumInterval: '5 minutes' } });

/**
 * Started by the retention schedule (RETENTION_DAYS): prunes batch after batch until a batch
 * finds less than a full one, at most `maxBatches` in one run (the next run goes on).
 */
export async function pruneRetention(input: RetentionInput): Promise<number> {
  const olderThan = new Date(Date.now() - input.days * 86_400_000).toISOString();
  const batch = input.batch ?? 500;
  let removed = 0;
  for (let i = 0; i < (input.maxBatches ?? 200); i++) {
    const n = await pruneBatch({ olderThan, batch });
    removed += n;
    if (n < batch) break;
  }
  return removed;
}
