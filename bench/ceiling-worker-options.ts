// Worker options of the Temporal ceiling, in one place so they can be matched to the
// service's worker (src/worker/worker.ts) when that one is tuned. Empty = the SDK's defaults,
// which is what the service uses today. BENCH_CEILING_WORKER_OPTIONS (a JSON object, e.g.
// '{"maxConcurrentWorkflowTaskExecutions":100}') overrides them for one run without an edit.
import type { WorkerOptions } from '@temporalio/worker';

/** Everything but what the ceiling itself fixes (where it connects, what it runs). */
export type TunableWorkerOptions = Omit<Partial<WorkerOptions>, 'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowsPath' | 'workflowBundle'>;

// As the service's worker (src/worker/worker.ts): 400 activity slots, the rest the SDK's defaults.
export const ceilingWorkerOptions: TunableWorkerOptions = { maxConcurrentActivityTaskExecutions: 400 };

export function resolvedCeilingWorkerOptions(env: NodeJS.ProcessEnv = process.env): TunableWorkerOptions {
  const extra = env.BENCH_CEILING_WORKER_OPTIONS ? (JSON.parse(env.BENCH_CEILING_WORKER_OPTIONS) as TunableWorkerOptions) : {};
  return { ...ceilingWorkerOptions, ...extra };
}
