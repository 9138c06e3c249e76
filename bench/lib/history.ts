// Temporal's cost per run, read from the histories of sampled runs: events per run and
// workflow tasks per run (each workflow task is a round trip worker ⇄ server and several
// writes to the server's store).
import { Client, Connection } from '@temporalio/client';
import { mean } from './load.js';

export type HistoryStats = {
  sampled: number;
  eventsMean: number | null;
  eventsMax: number | null;
  workflowTasksMean: number | null;
  workflowTasksMax: number | null;
  /** runs still RUNNING when read (counted as of then) */
  open: number;
  /** runs whose history could not be read */
  failed: number;
};

// temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED (the proto package is CommonJS-only).
const WORKFLOW_TASK_COMPLETED = 6;

/**
 * For each workflow id, in parallel: waits (at most `waitMs` for all together) for the run to
 * complete, then counts its history's events and completed workflow tasks. A run that is still
 * open then (a mixed-keyword run waits for delivery reports) is counted as it is and marked open.
 */
export async function sampleHistories(address: string, namespace: string, workflowIds: string[], waitMs = 15_000): Promise<HistoryStats> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    const client = new Client({ connection, namespace });
    const deadline = Date.now() + waitMs;
    const results = await Promise.all(
      workflowIds.map(async (id) => {
        try {
          const handle = client.workflow.getHandle(id);
          let status = (await handle.describe()).status.name;
          while (status === 'RUNNING' && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 250));
            status = (await handle.describe()).status.name;
          }
          const events = (await handle.fetchHistory()).events ?? [];
          const tasks = events.filter((e) => e.eventType === WORKFLOW_TASK_COMPLETED || String(e.eventType) === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED').length;
          return { events: events.length, tasks, open: status === 'RUNNING' };
        } catch {
          return null;
        }
      }),
    );
    const ok = results.filter((r) => r !== null);
    const events = ok.map((r) => r.events);
    const tasks = ok.map((r) => r.tasks);
    return {
      sampled: ok.length,
      eventsMean: mean(events),
      eventsMax: events.length ? Math.max(...events) : null,
      workflowTasksMean: mean(tasks),
      workflowTasksMax: tasks.length ? Math.max(...tasks) : null,
      open: ok.filter((r) => r.open).length,
      failed: results.length - ok.length,
    };
  } finally {
    await connection.close();
  }
}

/** `count` ids spread evenly over `ids`. */
export function spread<T>(ids: T[], count: number): T[] {
  if (ids.length <= count) return ids;
  return Array.from({ length: count }, (_, k) => ids[Math.floor((k * ids.length) / count)]!);
}
