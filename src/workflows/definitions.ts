import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

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
} as const;
export const allSearchAttributes = Object.values(searchAttributes);

/** Retry settings the starter passes in, so the workflow needs no configuration of its own. */
export type WebhookPolicy = { retryHours: number; initialIntervalSeconds: number; timeoutSeconds: number };

export type InboundMessageInput = { messageId: string; webhook: WebhookPolicy };

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
export const rescheduleReplySignal = defineSignal<[{ at: string }]>('rescheduleReply');
export const deliveryReportSignal = defineSignal<[{ message_id: string; status: string }]>('deliveryReport');
export const stateQuery = defineQuery<RunState>('state');

/** One webhook call, fixed when the run is prepared so every retry sends the same request. */
export type WebhookRequest = {
  deliveryId: string;
  logId: string;
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body: string | null;
};

/** Everything a run needs, read once from PostgreSQL by the prepare activity. */
export type RunPlan = {
  messageId: string;
  sid: string;
  outcome: 'keyword' | 'expired' | 'default';
  configId: string;
  trigger: WebhookRequest | null;
};

/** Error type names shared by activities (which throw them) and workflows (which read them). */
export const errorTypes = {
  webhookRejected: 'WebhookRejected',
  webhookRetryable: 'WebhookRetryable',
} as const;
