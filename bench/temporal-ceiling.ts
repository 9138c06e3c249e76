// Reference system (b) of `npm run bench`, its own process: the most a Temporal dev server
// started as `npm start` starts it (same function, same arguments, state in a SQLite file)
// can do with one minimal workflow per MO. The yardstick for the service's processing rate.
//   POST /v1/inbound → client.workflow.start(ceilingWorkflow, eager) → 202;
//   the workflow's one local activity POSTs the MO JSON to RECEIVER_URL.
//   env: PORT, INGEST_TOKEN, RECEIVER_URL, DATA_DIR, TEMPORAL_DEV_PORT, TEMPORAL_DEV_UI_PORT,
//        TEMPORAL_CLI_PATH, BENCH_CEILING_WORKER_OPTIONS (optional; see ceiling-worker-options.ts)
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config.js';
import { startTemporalDevServer } from '../src/runtime/temporal-dev.js';
import type { CeilingActivities, CeilingMo } from './ceiling-workflows.js';
import { ceilingWorkflow } from './ceiling-workflows.js';
import { resolvedCeilingWorkerOptions } from './ceiling-worker-options.js';
import { env, serveInbound } from './lib/front-door.js';
import { findChildPid } from './lib/proc.js';

const CEILING_TASK_QUEUE = 'bench-ceiling';
const log = (line: string) => console.log(`[ceiling] ${line}`);
const receiverUrl = env('RECEIVER_URL');

const config = loadConfig({
  DATA_DIR: env('DATA_DIR'),
  TEMPORAL_DEV_PORT: env('TEMPORAL_DEV_PORT'),
  TEMPORAL_DEV_UI_PORT: env('TEMPORAL_DEV_UI_PORT'),
  TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH ?? 'temporal',
});
const dev = await startTemporalDevServer(config, log);
log(`temporal dev server pid ${findChildPid(process.pid, 'temporal') ?? 'not found'} at ${dev.address}`);

const activities: CeilingActivities = {
  async deliver(mo: CeilingMo) {
    const res = await fetch(receiverUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(mo) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`receiver answered ${res.status}`);
  },
};

// One NativeConnection for the worker and the client: what lets a start be eager (the server
// hands the first workflow task back in the start's answer, to this process's worker).
const connection = await NativeConnection.connect({ address: dev.address });
const workerOptions = resolvedCeilingWorkerOptions();
log(`worker options: ${JSON.stringify(workerOptions)}`);
const worker = await Worker.create({
  ...workerOptions,
  connection,
  namespace: config.temporal.namespace,
  taskQueue: CEILING_TASK_QUEUE,
  workflowsPath: fileURLToPath(new URL('./ceiling-workflows.ts', import.meta.url)),
  activities,
});
const client = new Client({ connection, namespace: config.temporal.namespace });

const stats = { started: 0, eager: 0, failed: 0 };
const server = await serveInbound({
  port: Number(env('PORT')),
  token: env('INGEST_TOKEN'),
  accept: async (mo) => {
    try {
      const handle = await client.workflow.start(ceilingWorkflow, {
        taskQueue: CEILING_TASK_QUEUE,
        workflowId: 'c-' + mo.id,
        args: [mo],
        requestEagerStart: true,
      });
      stats.started++;
      if (handle.eagerlyStarted) stats.eager++;
    } catch (e) {
      stats.failed++;
      throw e;
    }
  },
  stats: () => stats,
  log,
});

// The SDK stops the worker on SIGINT / SIGTERM by itself; run() then resolves, and the rest
// is stopped here, the dev server last.
const running = worker.run();
log('ready on http://127.0.0.1:' + env('PORT'));
try {
  await running;
} finally {
  server.closeAllConnections();
  server.close();
  await connection.close().catch(() => {});
  await dev.stop();
  process.exit(0);
}
