import { doneAfterFirstStep, errorTypes, failedAttempt, runSteps, type ActionType, type AttemptOutcome, type RunPlan, type RunStart } from '../workflows/definitions.js';
import type { createOutboundActivities } from './outbound.js';
import type { createRunActivities } from './run.js';
import type { createWebhookActivities } from './webhook.js';

type Parts = {
  run: ReturnType<typeof createRunActivities>;
  webhook: ReturnType<typeof createWebhookActivities>;
  outbound: ReturnType<typeof createOutboundActivities>;
};

/**
 * The run's first local activity: prepares the run and makes the first attempt of each action
 * of its first step (`runSteps`), side by side, right away. Every local activity costs a trip
 * through the SDK between workflow and activity code; this way the first webhook call, reply
 * or forward waits for one such trip instead of two. Each attempt is the activity's own code,
 * recording what it records when the workflow calls it; its outcome comes back as data, and
 * the workflow goes on from it as from its own first attempt.
 */
export function createStartRun({ run, webhook, outbound }: Parts) {
  const attempt = (plan: RunPlan, action: ActionType): Promise<unknown> => {
    switch (action) {
      case 'expiry_message':
        return outbound.sendSmsAction(plan.expiryMessage!);
      case 'auto_reply':
        return outbound.sendSmsAction(plan.autoReply!);
      case 'forward_sms':
        return outbound.sendSmsAction(plan.forwardSms!);
      case 'forward_email':
        return outbound.sendEmailAction(plan.forwardEmail!);
      case 'subscribe':
      case 'unsubscribe':
        return outbound.applySubscriptionAction(plan.subscription!);
      case 'trigger':
        return webhook.deliverWebhook(plan.trigger!);
    }
  };
  return {
    async startRun(messageId: string, opts: { deliveryReportWaitSeconds: number }): Promise<RunStart | null> {
      const plan = await run.prepareRun(messageId);
      if (!plan) return null;
      const steps = runSteps(plan);
      const outcomes = await Promise.all(steps[0]!.map((action) => outcomeOf(action, () => attempt(plan, action))));
      const first: RunStart['first'] = Object.fromEntries(steps[0]!.map((action, i) => [action, outcomes[i]!]));
      // A run that is over already is recorded so here: no local activity after this one.
      // Best effort: should this write fail, the workflow records the end itself, rather than
      // this activity being retried and every attempt above made again.
      let finished = doneAfterFirstStep(plan, steps, first, opts.deliveryReportWaitSeconds);
      if (finished) finished = await run.finishRun(messageId).then(() => true, () => false);
      return { plan, first, finished };
    },
  };
}

/** An attempt's result or error as data, judged as the workflow judges its own attempts. */
async function outcomeOf(action: ActionType, fn: () => Promise<unknown>): Promise<AttemptOutcome> {
  try {
    return { ok: true, result: await fn() };
  } catch (e) {
    return failedAttempt(e, action === 'trigger' ? errorTypes.webhookRejected : errorTypes.sendRejected);
  }
}
