import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { silentLog, temporalLogger, type Log } from '../runtime/logger.js';
import { temporalDataConverter } from '../runtime/payload-codec.js';

/** Activity slots per worker (see createWorker). */
export const WORKER_ACTIVITY_SLOTS = 400;

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * A worker for the message workflows; tests pass a prebuilt bundle to skip re-bundling (built
 * with `failureConverterPath` when PAYLOAD_KEY is set, as the worker's own bundling does).
 * Without one, the workflows are bundled here, as the SDK would, but with webpack's report
 * logged at debug level: a start prints no bundler output.
 */
export async function createWorker(opts: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  workflowBundle?: WorkflowBundleOption;
  log?: Log;
}): Promise<Worker> {
  const dataConverter = temporalDataConverter(opts.deps.config.keys.payload);
  const workflowBundle = opts.workflowBundle ?? (await bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: dataConverter?.failureConverterPath,
    logger: temporalLogger(opts.log ?? silentLog, { demote: true }),
  }));
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle,
    activities: createActivities(opts.deps),
    dataConverter,
    // A stop lets in-flight activities finish for a few seconds, then cancels them (a webhook
    // attempt then fails and is retried on the next worker), and never waits past the force
    // time: Ctrl-C stops `npm start` within its deadline whatever is in flight (issue 16).
    shutdownGraceTime: '3s',
    shutdownForceTime: '6s',
    // Outbound calls are I/O, not CPU: room for one account's slow endpoint at its cap
    // (OUTBOUND_CONCURRENCY_PER_ACCOUNT, 150: a 3 s endpoint drains at ~50 MO/s) with as many
    // slots again for everyone else (issue 18). The bench's ceiling uses the same.
    maxConcurrentActivityTaskExecutions: WORKER_ACTIVITY_SLOTS,
  });
}
