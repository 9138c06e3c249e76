import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import {
  errorTypes,
  searchAttributes,
  stateQuery,
  type InboundMessageInput,
  type RunPlan,
  type RunState,
} from './definitions.js';

type Activities = ReturnType<typeof createActivities>;

const store = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

/** One run per MO message (SPEC §1): prepares from PostgreSQL, then runs each configured action. */
export async function inboundMessage(input: InboundMessageInput): Promise<RunState> {
  const state: RunState = { phase: 'preparing', outcome: null, actions: {}, scheduledReplyAt: null };
  setHandler(stateQuery, () => state);

  const plan = await store.prepareRun(input.messageId);
  if (!plan) {
    state.phase = 'completed';
    return state;
  }
  state.outcome = plan.outcome;
  state.phase = 'running';
  if (workflowInfo().typedSearchAttributes.get(searchAttributes.outcome) !== plan.outcome) {
    upsertSearchAttributes([{ key: searchAttributes.outcome, value: plan.outcome }]);
  }

  if (plan.trigger) await runTrigger(plan, input, state);

  state.phase = 'completed';
  await store.finishRun(plan.messageId);
  return state;
}

async function runTrigger(plan: RunPlan, input: InboundMessageInput, state: RunState): Promise<void> {
  const { retryHours, initialIntervalSeconds, timeoutSeconds } = input.webhook;
  // SPEC §5: retried with exponential backoff for WEBHOOK_RETRY_HOURS; final 4xx stop at once.
  const webhook = proxyActivities<Activities>({
    startToCloseTimeout: `${timeoutSeconds + 10} seconds`,
    scheduleToCloseTimeout: `${retryHours} hours`,
    retry: {
      initialInterval: `${initialIntervalSeconds} seconds`,
      backoffCoefficient: 2,
      maximumInterval: '1 hour',
      nonRetryableErrorTypes: [errorTypes.webhookRejected],
    },
  });
  state.actions.trigger = 'pending';
  try {
    await webhook.deliverWebhook(plan.trigger!);
    state.actions.trigger = 'succeeded';
  } catch (err) {
    state.actions.trigger = 'failed';
    await store.recordAction(plan.messageId, 'trigger', 'failed', failureMessage(err));
  }
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) return cause.message;
    return cause.message || cause.name;
  }
  return err instanceof Error ? err.message : String(err);
}
