import { Client, Connection, isGrpcServiceError, ScheduleAlreadyRunning, WorkflowExecutionAlreadyStartedError, type ConnectionLike } from '@temporalio/client';
import type { Config } from '../config.js';
import { fairnessPriority } from '../domain/fairness.js';
import type { Keyring } from '../domain/keyring.js';
import { escapeMarkdown, runSummary } from '../domain/run-summary.js';
import { providerReportsDelivery } from '../outbound/sms-providers.js';
import { temporalDataConverter } from './payload-codec.js';
import {
  allSearchAttributes,
  INBOUND_WORKFLOW,
  RETENTION_SCHEDULE_ID,
  RETENTION_WORKFLOW,
  type RetentionInput,
  searchAttributes,
  workflowIdFor,
  type InboundMessageInput,
} from '../workflows/definitions.js';

export type Temporal = {
  client: Client;
  connection: ConnectionLike;
  /** the client shares its connection with a worker of this process, so starts may be eager */
  eagerStart: boolean;
  close: () => Promise<void>;
};

/**
 * A lazy connection: the API starts, and keeps accepting messages, while Temporal is down;
 * stored messages are started by the dispatcher once it is back (SPEC §5).
 */
export function connectTemporal(address: string, namespace: string, payloadKey: Keyring | null): Temporal {
  const connection = Connection.lazy({ address });
  const client = new Client({ connection, namespace, dataConverter: temporalDataConverter(payloadKey) });
  return { client, connection, eagerStart: false, close: () => connection.close() };
}

/**
 * A client over a worker's own connection (`npm start`, where API and worker share a
 * process): eager workflow start hands a run's first task straight to that worker. The
 * connection is the worker's, closed with it.
 */
export function clientOverWorkerConnection(connection: ConnectionLike, namespace: string, payloadKey: Keyring | null): Temporal {
  const client = new Client({ connection, namespace, dataConverter: temporalDataConverter(payloadKey) });
  return { client, connection, eagerStart: true, close: async () => {} };
}

// temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (the proto package is CommonJS-only).
const INDEXED_VALUE_TYPE_KEYWORD = 2;

/** Registers the project's search attributes where they are missing (idempotent). */
export async function ensureSearchAttributes(connection: Pick<ConnectionLike, 'operatorService'>, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = allSearchAttributes.filter((k) => !known.has(k.name));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED_VALUE_TYPE_KEYWORD])),
  });
}

export type StartableMessage = {
  id: string;
  /** null for a standard keyword on a shared short code: it is every account's on the number */
  sid: string | null;
  recipient: string;
  /** the customer's number: only its last digits reach Temporal in clear (the summary) */
  source: string;
  keyword: string | null;
  outcome: string;
  /** when the MO arrived: its run's start delay is measured from here (runtime/metrics.ts) */
  storedAt?: Date;
};

/**
 * Starts the message's run. A run that already exists (a second dispatcher, a retried start)
 * counts as started: the workflow id is the message id, so no message ever runs twice.
 */
export async function startInboundRun(
  client: Client,
  config: Config,
  m: StartableMessage,
  opts: { eagerStart?: boolean; deadlineMs?: number } = {},
): Promise<void> {
  const input: InboundMessageInput = {
    messageId: m.id,
    webhook: config.webhook,
    // A provider that never reports delivery (`log`) leaves nothing to wait for.
    deliveryReportWaitSeconds: providerReportsDelivery(config.sms.provider) ? config.deliveryReportWaitSeconds : 0,
  };
  const summary = runSummary(m);
  try {
    await client.withDeadline(Date.now() + (opts.deadlineMs ?? 5000), () =>
      client.workflow.start(INBOUND_WORKFLOW, {
        taskQueue: config.temporal.taskQueue,
        // With a worker in this process the server hands it the first workflow task in its
        // answer: no round trip through the task queue.
        requestEagerStart: opts.eagerStart ?? false,
        workflowId: workflowIdFor(m.id),
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        // SPEC §5.2: the account's fair share of the task queue (its activities inherit it);
        // a server with fairness off (docs/decisions.md) takes the key and ignores it.
        priority: fairnessPriority(m.sid),
        // What the Temporal UI shows of the run: its page shows the static summary (a payload,
        // encrypted with PAYLOAD_KEY), its workflow list the MoSummary search attribute.
        staticSummary: escapeMarkdown(summary),
        typedSearchAttributes: [
          ...(m.sid ? [{ key: searchAttributes.accountSid, value: m.sid }] : []),
          { key: searchAttributes.recipient, value: m.recipient },
          { key: searchAttributes.outcome, value: m.outcome },
          ...(m.keyword ? [{ key: searchAttributes.keyword, value: m.keyword }] : []),
          { key: searchAttributes.summary, value: summary },
        ],
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw err;
  }
}

export function temporalUiUrl(config: Config, workflowId: string | null): string | null {
  if (!workflowId || !config.temporal.uiUrl) return null;
  return `${config.temporal.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

// gRPC status codes: CANCELLED 1, DEADLINE_EXCEEDED 4, RESOURCE_EXHAUSTED 8, UNAVAILABLE 14.
const UNREACHABLE_CODES = new Set([1, 4, 8, 14]);

/**
 * Whether an error means Temporal could not be reached (try later, keep the order), rather
 * than that it refused this one request (note why, move on).
 */
export function isTemporalUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && UNREACHABLE_CODES.has(e.code)) return true;
    if (e instanceof Error && /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|No connection established|Channel has been shut down/.test(e.message)) return true;
  }
  return false;
}

/** An error with its causes ("Failed to start Workflow: ... search attribute ... not defined"). */
export function errorChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message && !parts.includes(message)) parts.push(message);
  }
  return parts.join(': ');
}

/**
 * The retention schedule (SPEC §9): every hour a `pruneRetention` run removes what is older
 * than RETENTION_DAYS. Made at startup by every worker; one that exists is brought up to date
 * (RETENTION_DAYS or the task queue may have changed), so starting twice is harmless.
 */
export async function ensureRetentionSchedule(client: Client, config: Config): Promise<void> {
  const args: [RetentionInput] = [{ days: config.retentionDays }];
  const action = { type: 'startWorkflow' as const, workflowType: RETENTION_WORKFLOW, taskQueue: config.temporal.taskQueue, args };
  try {
    await client.schedule.create({
      scheduleId: RETENTION_SCHEDULE_ID,
      spec: { intervals: [{ every: '1 hour' }] },
      action,
      policies: { overlap: 'SKIP' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(RETENTION_SCHEDULE_ID).update((prev) => ({ ...prev, action: { ...prev.action, ...action } }));
  }
}
