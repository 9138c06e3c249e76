import { ActivityFailure, ApplicationFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { SubscriptionChange } from '../domain/subscriptions.js';

/** Workflow type name of SPEC §6. */
export const INBOUND_WORKFLOW = 'inboundMessage';

/** Workflow ids are business keys: one run per carrier message id, ever. */
export function workflowIdFor(messageId: string): string {
  return `mo-${messageId}`;
}

export const searchAttributes = {
  accountSid: defineSearchAttributeKey('MoAccountSid', SearchAttributeType.KEYWORD),
  recipient: defineSearchAttributeKey('MoRecipient', SearchAttributeType.KEYWORD),
  keyword: defineSearchAttributeKey('MoKeyword', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('MoOutcome', SearchAttributeType.KEYWORD),
  /**
   * The run's summary (`domain/run-summary.ts`) as a column the UI's workflow list can show:
   * the list cannot show a run's static summary, which only its own page does.
   */
  summary: defineSearchAttributeKey('MoSummary', SearchAttributeType.KEYWORD),
} as const;
export const allSearchAttributes = Object.values(searchAttributes);

/** Retry settings the starter passes in, so the workflow needs no configuration of its own. */
export type WebhookPolicy = { retryHours: number; initialIntervalSeconds: number; timeoutSeconds: number };

export type InboundMessageInput = {
  messageId: string;
  webhook: WebhookPolicy;
  /** how long a run stays open after its last SMS, to take `deliveryReport` signals */
  deliveryReportWaitSeconds: number;
};

export type ActionType = 'trigger' | 'auto_reply' | 'forward_sms' | 'forward_email' | 'subscribe' | 'unsubscribe' | 'expiry_message';
export type ActionStatus = 'pending' | 'scheduled' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** What the `state` query answers: what the run did and what it waits for. */
export type RunState = {
  phase: 'preparing' | 'running' | 'waiting' | 'completed';
  outcome: string | null;
  actions: Partial<Record<ActionType, ActionStatus>>;
  scheduledReplyAt: string | null;
};

export const cancelScheduledReplySignal = defineSignal('cancelScheduledReply');
/** `at` is an ISO-8601 instant (the API converts the account's local time before signalling). */
export const rescheduleReplySignal = defineSignal<[{ at: string }]>('rescheduleReply');
/**
 * A delivery report for one of the run's SMS (SPEC §6): `message_id` is our outbox id or the
 * provider's message id. Other systems signal `{message_id, status}` and the run records it;
 * `POST /v1/delivery-reports` has recorded it already and adds the SMS's `outbox_id`, so the
 * run only counts it.
 */
export type DeliveryReportSignal = { message_id: string; status: string; outbox_id?: string };
export const deliveryReportSignal = defineSignal<[DeliveryReportSignal]>('deliveryReport');
export const stateQuery = defineQuery<RunState>('state');

/**
 * One webhook call, fixed when the run is prepared so every retry (and replay) sends the same
 * request. No secrets: a profile's auth, extra headers and signing secret are read at each attempt.
 */
export type WebhookRequest = {
  deliveryId: string;
  logId: string;
  sid: string;
  /** the callback profile it goes through, or null for an inline trigger URL */
  profileId: string | null;
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body: string | null;
};

/** How a delivery ended when it did not fail: sent, or skipped (its profile is disabled or gone). */
export type DeliveryResult = { status: 'succeeded'; statusCode: number } | { status: 'skipped'; reason: string };

/** Workflow type that sends a stored delivery again, with the same delivery id (SPEC §6). */
export const REPLAY_WORKFLOW = 'replayDelivery';
export type ReplayDeliveryInput = { deliveryId: string; webhook: WebhookPolicy };
/** The n-th replay of a delivery has its own run. */
export function replayWorkflowIdFor(deliveryId: string, round: number): string {
  return `replay-${deliveryId}-${round}`;
}

/** Workflow type and schedule that prune old MOs (SPEC §9, RETENTION_DAYS). */
export const RETENTION_WORKFLOW = 'pruneRetention';
export const RETENTION_SCHEDULE_ID = 'inbound-sms-retention';
export type RetentionInput = { days: number; batch?: number; maxBatches?: number };

/** One SMS a run sends; the idempotency key makes a retried activity send it once. */
export type SmsAction = {
  type: 'auto_reply' | 'expiry_message' | 'forward_sms';
  logId: string;
  /** null only for a standard keyword's confirmation on a shared short code (no one account's) */
  sid: string | null;
  idempotencyKey: string;
  sender: string;
  to: string;
  body: string;
  route: string | null;
  templateId: string | null;
  /** a standard keyword's confirmation (SPEC §3.7): sent whatever the customer opted out of */
  ignoreOptOut?: boolean;
  /**
   * The MO whose opt-out this instant reply confirms (a configuration with `unsubscribe`): that
   * MO's own change is not held against it, every other opt-out is (SPEC §5.1).
   */
  confirms?: string;
};

export type EmailAction = { logId: string; sid: string; idempotencyKey: string; to: string[]; subject: string; text: string };

export type SubscriptionAction = {
  type: 'subscribe' | 'unsubscribe';
  logId: string;
  /** the accounts whose list changes: the configuration's, or for a standard keyword on a shared short code every account on it */
  sids: string[];
  msisdn: string;
  /** the customer's number as each account's country reads it, where it differs by account */
  msisdns?: Record<string, string>;
  viaNumber: string;
  change: SubscriptionChange;
  /** when the customer sent the message (ISO): later messages' changes win */
  receivedAt: string;
};

/** Everything a run needs, read once from PostgreSQL by the prepare activity. */
export type RunPlan = {
  messageId: string;
  /** null for a standard keyword on a shared short code */
  sid: string | null;
  outcome: 'keyword' | 'expired' | 'default' | 'standard';
  /** null for a standard keyword, which no configuration handles */
  configId: string | null;
  trigger: WebhookRequest | null;
  /** `at` is an ISO instant for a scheduled reply, null for an instant one */
  autoReply: (SmsAction & { at: string | null }) | null;
  expiryMessage: SmsAction | null;
  forwardSms: SmsAction | null;
  forwardEmail: EmailAction | null;
  subscription: SubscriptionAction | null;
};

/**
 * How one attempt of an action ended, as data: made by `startRun` (the first attempts of the
 * first step's actions, in the activity that prepares the run) or by the workflow's local first attempt.
 * `final`: no retry can mend it (a webhook's 4xx, a provider's refusal). `handOver`: the
 * regular activity goes on at once, without the first backoff: the call was still in flight
 * at the end of the local budget (the regular attempt takes it over), or was not made because
 * the account's calls are at their cap (the regular attempt waits its turn).
 */
export type AttemptOutcome<R = unknown> =
  | { ok: true; result: R }
  | { ok: false; final: boolean; message: string; retryAfterMs: number | null; handOver?: boolean };

/**
 * The activity's own error: a regular activity's failure wraps it in an ActivityFailure; a
 * local activity's, and one caught inside an activity, arrive as thrown.
 */
function activityError(err: unknown): unknown {
  return err instanceof ActivityFailure ? (err.cause ?? err) : err;
}

export function failureMessage(err: unknown): string {
  const cause = activityError(err);
  if (cause instanceof Error) return cause.message || cause.name;
  return String(cause);
}

/**
 * The one verdict on a failed attempt, in workflow and activity code alike: final when the
 * activity said no retry can mend it (non-retryable, or of `finalType`); the wait an endpoint
 * asked for (Retry-After) travels in the failure's details.
 */
export function failedAttempt(err: unknown, finalType: string): AttemptOutcome<never> {
  const cause = activityError(err);
  const app = cause instanceof ApplicationFailure ? cause : null;
  const wait = app?.details?.[0];
  const handOver = app !== null && (app.type === errorTypes.handedOver || app.type === errorTypes.accountBusy);
  return {
    ok: false,
    final: app !== null && (app.nonRetryable === true || app.type === finalType),
    message: failureMessage(err),
    retryAfterMs: typeof wait === 'number' && wait >= 0 ? wait : null,
    ...(handOver ? { handOver } : {}),
  };
}

/**
 * What `startRun` answers: the plan, the first attempts it made of the first step's actions,
 * and whether that was the whole run (then it also recorded the run as completed).
 */
export type RunStart = { plan: RunPlan; first: Partial<Record<ActionType, AttemptOutcome>>; finished: boolean };

const SMS_ACTIONS: ActionType[] = ['expiry_message', 'auto_reply', 'forward_sms'];

/**
 * Whether a run is over once its first step's first attempts succeeded: nothing comes after
 * that step, no reply is scheduled, and no SMS sent waits for delivery reports.
 */
export function doneAfterFirstStep(plan: RunPlan, steps: ActionType[][], first: RunStart['first'], deliveryReportWaitSeconds: number): boolean {
  if (steps.slice(1).some((s) => s.length > 0) || plan.autoReply?.at) return false;
  if (!steps[0]!.every((a) => first[a]?.ok)) return false;
  return deliveryReportWaitSeconds === 0 || !steps[0]!.some((a) => SMS_ACTIONS.includes(a));
}

/**
 * The order of a run's actions (SPEC §2 leaves it open): steps one after another, the actions
 * of a step side by side. Subscribe comes before the instant reply, so a START keyword's reply
 * reaches a customer who had opted out; unsubscribe after it, so a STOP keyword confirms once
 * and blocks everything later. Otherwise the instant reply, the forwards and the trigger go
 * side by side: none waits for another, and a webhook retrying for days holds nothing back.
 * A standard keyword's confirmation heeds no opt-out, so it and the change go side by side:
 * a confirmation retried through a provider outage never holds the opt-out back.
 * The last step is that side-by-side one (possibly empty); a scheduled reply waits alongside it.
 */
export function runSteps(plan: RunPlan): ActionType[][] {
  const steps: ActionType[][] = [];
  if (plan.expiryMessage) steps.push(['expiry_message']);
  const change = plan.subscription?.type ?? null;
  const independent = plan.autoReply?.ignoreOptOut === true;
  if (change === 'subscribe' && !independent) steps.push(['subscribe']);
  const replyNow = plan.autoReply !== null && !plan.autoReply.at;
  const together: ActionType[] = [];
  if (change === 'unsubscribe' && !independent) {
    if (replyNow) steps.push(['auto_reply']);
    steps.push(['unsubscribe']);
  } else if (replyNow) {
    together.push('auto_reply');
  }
  if (change && independent) together.push(change);
  if (plan.forwardSms) together.push('forward_sms');
  if (plan.forwardEmail) together.push('forward_email');
  if (plan.trigger) together.push('trigger');
  steps.push(together);
  return steps;
}

/** Error type names shared by activities (which throw them) and workflows (which read them). */
export const errorTypes = {
  webhookRejected: 'WebhookRejected',
  webhookRetryable: 'WebhookRetryable',
  sendRejected: 'SendRejected',
  /** a local first attempt outlasted its budget; its call goes on under the regular activity */
  handedOver: 'HandedOver',
  /** the account's outbound calls are at their cap: not made, tried again after a short wait */
  accountBusy: 'AccountBusy',
} as const;
