import {
  ApplicationFailure,
  type ActivityOptions,
  type LocalActivityOptions,
  condition,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import {
  cancelScheduledReplySignal,
  deliveryReportSignal,
  errorTypes,
  failureMessage,
  rescheduleReplySignal,
  runSteps,
  searchAttributes,
  stateQuery,
  type ActionType,
  type AttemptOutcome,
  type DeliveryReportSignal,
  type InboundMessageInput,
  type RunPlan,
  type RunState,
  type SmsAction,
} from './definitions.js';
import { isFinalDeliveryStatus } from '../domain/delivery-reports.js';
import { fairnessPriority } from '../domain/fairness.js';
import { activitySummary, withOutcome } from '../domain/run-summary.js';
import { attemptLocally, runDelivery } from './delivery.js';

type Activities = ReturnType<typeof createActivities>;

/**
 * Bookkeeping in PostgreSQL (read the plan, record statuses) runs as local activities: short,
 * idempotent, and without a round trip through the Temporal server for each one. Every
 * activity carries its summary for the Temporal UI (`domain/run-summary.ts`), hence a proxy per call.
 */
const store = (summary: string) => proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds', summary });

/** SMS and email sends and opt-in/out changes: retried with backoff for a day; a rejected send is final. */
const outboundOptions: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '24 hours',
  // The local first attempt and the 2 s after it were the first round of the backoff.
  retry: { initialInterval: '4 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: [errorTypes.sendRejected] },
};
/**
 * Sends heartbeat while the provider call is in flight (activities/outbound.ts): an attempt
 * on a killed worker is seen dead after 10 s, and the next one takes its outbox claim over.
 */
const sendOptions: ActivityOptions = { ...outboundOptions, heartbeatTimeout: '10 seconds' };
/** Their first attempt, made locally: see `firstLocally`. */
const firstTryOptions: LocalActivityOptions = { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } };
/**
 * An action's activities, each summarised as the action ("auto reply via BRAND"); the regular
 * ones under the account's fairness key (SPEC §5.2), as the run itself.
 */
const outboundAs = (summary: string, sid: string | null) => ({
  outbound: proxyActivities<Activities>({ ...outboundOptions, summary, priority: fairnessPriority(sid) }),
  sends: proxyActivities<Activities>({ ...sendOptions, summary, priority: fairnessPriority(sid) }),
  firstTry: proxyLocalActivities<Activities>({ ...firstTryOptions, summary }),
});

/**
 * Runs an action's first attempt as a local activity, which costs the Temporal server nothing
 * when it succeeds, as nearly all do (or takes the outcome of the one `startRun` made); a
 * failure that a retry may mend goes on as the regular activity under its retry policy, after
 * its first backoff. An attempt handed over (its call outlasted the local budget, or its
 * account's calls are at their cap) goes on as the regular activity at once. Sends stay
 * once-only: the outbox claim is keyed by the action's idempotency key, whichever attempt makes it.
 */
async function firstLocally<A, R>(local: (a: A) => Promise<R>, regular: (a: A) => Promise<R>, arg: A, firstAttempt?: AttemptOutcome): Promise<R> {
  const first = firstAttempt ?? (await attemptLocally(local, arg, errorTypes.sendRejected));
  if (first.ok) return first.result as R;
  if (first.final) throw ApplicationFailure.nonRetryable(first.message, errorTypes.sendRejected);
  if (!first.handOver) await sleep('2 seconds');
  return regular(arg);
}

/**
 * One run per MO message (SPEC §1): its actions in the steps of `runSteps` (subscribe before
 * the instant reply, unsubscribe after it, everything else side by side, a scheduled reply
 * waiting alongside), then a window for delivery reports.
 */
export async function inboundMessage(input: InboundMessageInput): Promise<RunState> {
  const state: RunState = { phase: 'preparing', outcome: null, actions: {}, scheduledReplyAt: null };
  let cancelRequested = false;
  let rescheduleTo: string | null = null;
  const reports: DeliveryReportSignal[] = [];
  setHandler(stateQuery, () => state);
  setHandler(cancelScheduledReplySignal, () => {
    cancelRequested = true;
  });
  setHandler(rescheduleReplySignal, (payload) => {
    // Other systems signal directly: a time that does not parse is dropped, not kept to break
    // the run later.
    const at = Date.parse(String(payload?.at));
    if (Number.isFinite(at)) rescheduleTo = new Date(at).toISOString();
    else log.warn('rescheduleReply ignored: `at` is not an ISO-8601 time', { at: payload?.at });
  });
  setHandler(deliveryReportSignal, (report) => {
    if (typeof report?.message_id === 'string' && (typeof report.status === 'string' || typeof report.status === 'number')) reports.push(report);
    else log.warn('deliveryReport ignored: `message_id` and `status` are required', { report });
  });

  // Room for the first step's attempt: a webhook's (a token request and a request, twice)
  // or a send's (a minute), after the reads and writes of preparing.
  const starting = proxyLocalActivities<Activities>({
    startToCloseTimeout: `${Math.max(input.webhook.timeoutSeconds * 4 + 10, 60) + 30} seconds`,
    summary: activitySummary.startRun(),
  });
  const started = await starting.startRun(input.messageId, { deliveryReportWaitSeconds: input.deliveryReportWaitSeconds });
  if (!started) {
    state.phase = 'completed';
    return state;
  }
  const plan = started.plan;
  // First attempts startRun made: each taken once, by its action.
  const made = started.first;
  const firstAttempt = (type: ActionType): AttemptOutcome | undefined => {
    const attempt = made[type];
    delete made[type];
    return attempt;
  };
  state.outcome = plan.outcome;
  state.phase = 'running';
  const attributes = workflowInfo().typedSearchAttributes;
  if (attributes.get(searchAttributes.outcome) !== plan.outcome) {
    // The list's summary says the outcome too; the static summary stays as it was at ingest.
    const summary = attributes.get(searchAttributes.summary);
    upsertSearchAttributes([
      { key: searchAttributes.outcome, value: plan.outcome },
      ...(summary ? [{ key: searchAttributes.summary, value: withOutcome(summary, plan.outcome) }] : []),
    ]);
  }

  // Delivery reports are recorded as they come, for the whole run. The wait ends once each SMS
  // sent has a final report: counted per SMS, so a repeated report (a gateway's retry, the same
  // receipt through the API and a direct signal) counts once.
  const sentSms: string[] = [];
  const finallyReported = new Set<string>();
  let runDone = false;
  const reportLoop = (async () => {
    while (!runDone || reports.length > 0) {
      await condition(() => reports.length > 0 || runDone);
      await recordReports(plan, reports, finallyReported);
    }
  })();

  const sms = async (action: SmsAction) => {
    const { firstTry, sends } = outboundAs(activitySummary.sms(action), action.sid);
    const outboxId = await runAction(plan, state, action.type, () => firstLocally(firstTry.sendSmsAction, sends.sendSmsAction, action, firstAttempt(action.type)));
    if (outboxId) sentSms.push(outboxId);
  };

  /** A durable timer: it survives worker, API and Temporal restarts; signals cancel or move it. */
  const scheduledReply = async (reply: SmsAction & { at: string }) => {
    let target = Date.parse(reply.at);
    state.actions.auto_reply = 'scheduled';
    state.scheduledReplyAt = reply.at;
    state.phase = 'waiting';
    for (;;) {
      if (rescheduleTo !== null && !cancelRequested) {
        target = Date.parse(rescheduleTo);
        state.scheduledReplyAt = rescheduleTo;
        rescheduleTo = null;
        await store(activitySummary.record('auto_reply', 'scheduled')).recordAction(plan.messageId, 'auto_reply', 'scheduled', null, { scheduled_at: state.scheduledReplyAt });
      }
      const wait = target - Date.now();
      if (cancelRequested || wait <= 0) break;
      await condition(() => cancelRequested || rescheduleTo !== null, wait);
    }
    state.phase = 'running';
    state.scheduledReplyAt = null;
    if (cancelRequested) {
      state.actions.auto_reply = 'cancelled';
      await store(activitySummary.record('auto_reply', 'cancelled')).recordAction(plan.messageId, 'auto_reply', 'cancelled');
      return;
    }
    // No longer steerable: the API answers 409 to a cancel from here on.
    await store(activitySummary.record('auto_reply', 'pending')).recordAction(plan.messageId, 'auto_reply', 'pending');
    await sms(reply);
  };

  const run = (type: ActionType): Promise<unknown> => {
    switch (type) {
      case 'expiry_message':
        return sms(plan.expiryMessage!);
      case 'auto_reply':
        return sms(plan.autoReply!);
      case 'forward_sms':
        return sms(plan.forwardSms!);
      case 'forward_email': {
        const { firstTry, sends } = outboundAs(activitySummary.email(plan.forwardEmail!.to), plan.sid);
        return runAction(plan, state, 'forward_email', () => firstLocally(firstTry.sendEmailAction, sends.sendEmailAction, plan.forwardEmail!, firstAttempt('forward_email')));
      }
      case 'subscribe':
      case 'unsubscribe': {
        const { firstTry, outbound } = outboundAs(activitySummary.subscription(plan.subscription!.change), plan.sid);
        return runAction(plan, state, type, () => firstLocally(firstTry.applySubscriptionAction, outbound.applySubscriptionAction, plan.subscription!, firstAttempt(type)));
      }
      case 'trigger':
        return runTrigger(plan, input, state, firstAttempt('trigger'));
    }
  };
  const steps = runSteps(plan);
  const reply = plan.autoReply;
  for (const [i, step] of steps.entries()) {
    const last = i === steps.length - 1;
    await Promise.all([...step.map(run), last && reply?.at ? scheduledReply({ ...reply, at: reply.at }) : null]);
  }

  // Delivery reports for the SMS this run sent arrive as signals for a while after sending.
  if (sentSms.length > 0 && input.deliveryReportWaitSeconds > 0) {
    state.phase = 'waiting';
    await condition(() => sentSms.every((id) => finallyReported.has(id)), input.deliveryReportWaitSeconds * 1000);
  }
  runDone = true;
  await reportLoop;

  state.phase = 'completed';
  // startRun recorded a run that its first attempts finished.
  if (!started.finished) await store(activitySummary.finishRun()).finishRun(plan.messageId);
  return state;
}

/**
 * Takes queued delivery reports: those the API recorded name their SMS (`outbox_id`), the others
 * are recorded here first. Adds each SMS with a final report to `finallyReported`.
 */
async function recordReports(plan: RunPlan, reports: DeliveryReportSignal[], finallyReported: Set<string>): Promise<void> {
  while (reports.length > 0) {
    const r = reports.shift()!;
    const outboxId = r.outbox_id ?? (await store(activitySummary.recordDeliveryReport()).recordDeliveryReport({ logId: plan.messageId, messageId: r.message_id, status: String(r.status) }));
    if (outboxId && isFinalDeliveryStatus(r.status)) finallyReported.add(outboxId);
  }
}

/** Runs one action; a failure is recorded on the action and does not stop the others. */
async function runAction(
  plan: RunPlan,
  state: RunState,
  type: ActionType,
  run: () => Promise<{ status: 'succeeded' | 'skipped'; outboxId: string | null }>,
): Promise<string | null> {
  state.actions[type] = 'pending';
  try {
    const r = await run();
    state.actions[type] = r.status;
    return r.status === 'succeeded' ? r.outboxId : null;
  } catch (err) {
    state.actions[type] = 'failed';
    await store(activitySummary.record(type, 'failed')).recordAction(plan.messageId, type, 'failed', failureMessage(err));
    return null;
  }
}

async function runTrigger(plan: RunPlan, input: InboundMessageInput, state: RunState, firstAttempt?: AttemptOutcome): Promise<void> {
  state.actions.trigger = 'pending';
  state.actions.trigger = await runDelivery(plan.trigger!, input.webhook, firstAttempt);
}
