import { profileWebhook, type StoredProfile } from './callback-profile.js';
import { encryptVariables } from './encryption.js';
import { bindTemplate, tokenize } from './keywords.js';
import { isExpired } from './matching.js';
import { customerE164 } from './phone.js';
import type { AutoReply, Forward, Unsubscribe } from './receive-config.js';
import { confirmationText, standardChange, standardKeyword } from './standard-keywords.js';
import type { SubscriptionChange } from './subscriptions.js';
import { formatInZone } from './time.js';
import { buildVariables, fitSms, render, type MessageVariables } from './variables.js';
import { oversizedWebhook, renderWebhook } from './webhook.js';
import { workflowIdFor, type ActionStatus, type ActionType, type RunPlan, type WebhookRequest } from '../workflows/definitions.js';

/**
 * What a message's run will do, decided without I/O: the run's prepare activity
 * (`activities/run.ts`) plans from the rows it read and records the plan; the dry run
 * (`domain/dry-run.ts`) plans from a sample message and shows it. One planner, so the two
 * cannot drift.
 */

export const USER_AGENT = 'inbound-sms-keyword-engine/0.1';

export type TriggerConfig = {
  url?: string | null;
  method?: 'POST' | 'GET' | null;
  body?: string | null;
  content_type?: string | null;
  callback_profile_id?: string | null;
};

/** The delivery id is stable across retries and replays, so receivers can deduplicate. */
export function deliveryIdFor(messageId: string): string {
  return `${workflowIdFor(messageId)}-trigger`;
}

/** The columns of a callback profile that rendering its request needs. */
export type ProfileForRender = Pick<StoredProfile, 'url' | 'http_method' | 'body' | 'content_type' | 'enc'> & { id: string };

/**
 * The trigger part of preparing a run: renders the inline webhook or the callback profile
 * (values encrypted first when the profile asks for it) into the request every attempt and
 * replay will send. `profile` is the named profile as stored, or null when it no longer
 * exists (the trigger is then skipped). The caller stores the request as the message's
 * delivery; a prepare that runs again keeps the stored one.
 */
export function renderTrigger(
  m: { id: string; sid: string },
  trigger: TriggerConfig,
  profile: ProfileForRender | null,
  vars: MessageVariables,
): WebhookRequest | { skip: string } | null {
  const deliveryId = deliveryIdFor(m.id);
  let rendered;
  if (trigger.callback_profile_id) {
    if (!profile) return { skip: `callback profile ${trigger.callback_profile_id} no longer exists` };
    rendered = renderWebhook(profileWebhook(profile), profile.enc ? encryptVariables(vars, profile.enc) : vars);
  } else if (trigger.url) {
    rendered = renderWebhook({ ...trigger, url: trigger.url }, vars);
  } else {
    return null;
  }
  const oversized = oversizedWebhook(rendered.url, rendered.body);
  if (oversized) return { skip: oversized };
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'webhook-id': deliveryId };
  if (rendered.contentType) headers['content-type'] = rendered.contentType;
  return {
    deliveryId, logId: m.id, sid: m.sid, profileId: trigger.callback_profile_id ? profile!.id : null,
    url: rendered.url, method: rendered.method, headers, body: rendered.body,
  };
}

/** One action the run will take, recorded when the run is prepared. */
export type PlannedAction = { type: ActionType; status: ActionStatus; detail: Record<string, unknown> };

/** The message as stored, with its account's time zone. */
export type PlanMessage = {
  id: string; sid: string; source: string; recipient: string; message: string;
  operator: string | null; circle: string | null; received_at: Date; keyword: string | null;
  outcome: string; matched_words: number; timezone: string | null;
};

/** The configuration that handles the message, as stored. */
export type PlanConfig = {
  c_id: string; template_names: string[]; expires_at: Date | null;
  expiry_message: string | null; expiry_sender: string | null; expiry_route: string | null; expiry_template_id: string | null;
  auto_reply: AutoReply | null; reply_at: Date | null; forward: Forward | null;
  subscribe: boolean | null; unsubscribe: Unsubscribe | null; trigger: TriggerConfig | null;
};

export type PlannedRun = { plan: RunPlan; actions: PlannedAction[]; request: WebhookRequest | null; vars: MessageVariables };

/**
 * Plans a configuration's run (outcome `keyword`, `expired` or `default`). Expiry is judged
 * again against the message's time, with the configuration as it is now. The trigger's
 * request is the one stored by an earlier try when there is one (every attempt and replay
 * sends the same request), else rendered from the configuration and `profile()`, the named
 * callback profile (called only when needed: it opens the profile's sealed encryption key).
 */
export function planRun(
  m: PlanMessage & PlanConfig,
  trigger: { stored: WebhookRequest | null; profile: () => ProfileForRender | null },
): PlannedRun {
  let outcome = m.outcome as RunPlan['outcome'];
  if (outcome === 'keyword' || outcome === 'expired') {
    outcome = isExpired(m.expires_at, m.received_at) ? 'expired' : 'keyword';
  }

  const words = tokenize(m.message);
  const vars = buildVariables({
    id: m.id,
    kid: m.c_id,
    source: m.source,
    recipient: m.recipient,
    message: m.message,
    keyword: m.keyword,
    operator: m.operator,
    circle: m.circle,
    timestamp: formatInZone(m.received_at, m.timezone ?? 'UTC'),
    named: bindTemplate(m.template_names, words.slice(m.matched_words)),
  });

  const plan: RunPlan = {
    messageId: m.id, sid: m.sid, outcome, configId: m.c_id, trigger: null,
    autoReply: null, expiryMessage: null, forwardSms: null, forwardEmail: null, subscription: null,
  };
  const actions: PlannedAction[] = [];
  const key = (type: ActionType) => `${workflowIdFor(m.id)}-${type}`;
  const reply = m.auto_reply;
  if (outcome === 'expired') {
    if (m.expiry_message) {
      // Its own sender, else the auto reply's, else the number itself; route and DLT
      // template are its own (an auto reply's template is registered for another text).
      plan.expiryMessage = {
        type: 'expiry_message', logId: m.id, sid: m.sid, idempotencyKey: key('expiry_message'),
        sender: m.expiry_sender ?? reply?.sender ?? m.recipient, to: m.source, body: fitSms(render(m.expiry_message, vars, 'text')),
        route: m.expiry_route, templateId: m.expiry_template_id,
      };
      actions.push({ type: 'expiry_message', status: 'pending', detail: {} });
    }
    return { plan, actions, request: null, vars };
  }
  if (reply) {
    const at = reply.schedule.type === 'scheduled' && m.reply_at ? m.reply_at.toISOString() : null;
    plan.autoReply = {
      type: 'auto_reply', logId: m.id, sid: m.sid, idempotencyKey: key('auto_reply'),
      sender: reply.sender, to: m.source, body: fitSms(render(reply.message, vars, 'text')),
      route: reply.route ?? null, templateId: reply.template_id ?? null, at,
      // SPEC §5.1: the opt-out counts from the MO's acknowledgement; the instant reply of the MO
      // that opts out is its confirmation, which that one change does not stop.
      ...(m.unsubscribe && !at ? { confirms: m.id } : {}),
    };
    actions.push({ type: 'auto_reply', status: at ? 'scheduled' : 'pending', detail: at ? { scheduled_at: at } : {} });
  }
  if (m.forward?.sms) {
    const f = m.forward.sms;
    plan.forwardSms = {
      type: 'forward_sms', logId: m.id, sid: m.sid, idempotencyKey: key('forward_sms'),
      sender: f.sender, to: f.to, body: fitSms(forwardText(m)), route: f.route ?? null, templateId: f.template_id ?? null,
    };
    actions.push({ type: 'forward_sms', status: 'pending', detail: {} });
  }
  if (m.forward?.email) {
    plan.forwardEmail = { logId: m.id, sid: m.sid, idempotencyKey: key('forward_email'), to: m.forward.email.to, ...forwardEmail(m, vars) };
    actions.push({ type: 'forward_email', status: 'pending', detail: {} });
  }
  if (m.subscribe || m.unsubscribe) {
    const type = m.subscribe ? 'subscribe' : 'unsubscribe';
    const change: SubscriptionChange = m.subscribe ? { kind: 'subscribe' }
      : m.unsubscribe!.scope === 'all' ? { kind: 'unsubscribe', scope: 'all' }
      : { kind: 'unsubscribe', scope: 'configured', senders: m.unsubscribe!.senders };
    plan.subscription = { type, logId: m.id, sids: [m.sid], msisdn: m.source, viaNumber: m.recipient, change, receivedAt: m.received_at.toISOString() };
    actions.push({ type, status: 'pending', detail: {} });
  }
  let request: WebhookRequest | null = null;
  if (trigger.stored) {
    // Prepared before (this is a retry): the stored request stands, whatever changed since.
    request = trigger.stored;
    actions.push({ type: 'trigger', status: 'pending', detail: {} });
  } else if (m.trigger) {
    const rendered = renderTrigger({ id: m.id, sid: m.sid }, m.trigger, trigger.profile(), vars);
    if (rendered && 'skip' in rendered) {
      actions.push({ type: 'trigger', status: 'skipped', detail: { reason: rendered.skip } });
    } else if (rendered) {
      request = rendered;
      actions.push({ type: 'trigger', status: 'pending', detail: { delivery_id: rendered.deliveryId, ...(rendered.profileId ? { callback_profile_id: rendered.profileId } : {}) } });
    }
  }
  return { plan, actions, request, vars };
}

/** What a standard keyword's run reads: the message, the account's texts, and the accounts on the number. */
export type StandardMessage = {
  id: string; sid: string | null; source: string; recipient: string; message: string; received_at: Date;
  opt_out_text: string | null; opt_in_text: string | null; help_text: string | null;
  /** every account on the number, for a message that is no one account's */
  number_sids: string[] | null;
  /** their countries, in the same order */
  number_countries: string[] | null;
};

/**
 * SPEC §3.7: a standard keyword's run. The confirmation (the account's text, else the default)
 * goes from the number the customer texted, whatever the customer opted out of; STOP and its
 * kin opt the customer out of all the account's senders, START and its kin back in. A message
 * that is no one account's (on a shared short code) changes the list of every account on the
 * number, and is confirmed with the default text: no one tenant speaks for the short code.
 * Null when the message is no standard keyword.
 */
export function planStandard(m: StandardMessage): { plan: RunPlan; actions: PlannedAction[] } | null {
  const standard = standardKeyword(m.message);
  if (!standard) return null;
  const plan: RunPlan = {
    messageId: m.id, sid: m.sid, outcome: 'standard', configId: null, trigger: null,
    autoReply: null, expiryMessage: null, forwardSms: null, forwardEmail: null, subscription: null,
  };
  const texts = m.sid ? { opt_out: m.opt_out_text, opt_in: m.opt_in_text, help: m.help_text } : null;
  plan.autoReply = {
    type: 'auto_reply', logId: m.id, sid: m.sid, idempotencyKey: `${workflowIdFor(m.id)}-auto_reply`,
    sender: m.recipient, to: m.source, body: fitSms(confirmationText(standard.kind, texts)),
    route: null, templateId: null, at: null, ignoreOptOut: true,
  };
  const actions: PlannedAction[] = [{ type: 'auto_reply', status: 'pending', detail: {} }];
  const change = standardChange(standard.kind);
  const sids = m.sid ? [m.sid] : (m.number_sids ?? []);
  if (change && sids.length > 0) {
    const type = change.kind;
    // A customer number kept as the carrier wrote it (national, on a shared short code whose
    // accounts are in different countries) is read in each account's own country, so that
    // account's later sends, which name E.164 numbers, find the opt-out.
    const msisdns = m.sid ? undefined : Object.fromEntries(sids.map((sid, i) => {
      const country = m.number_countries?.[i] ?? null;
      return [sid, customerE164(m.source, country ? country.trim() : null) ?? m.source];
    }));
    plan.subscription = { type, logId: m.id, sids, msisdn: m.source, ...(msisdns ? { msisdns } : {}), viaNumber: m.recipient, change, receivedAt: m.received_at.toISOString() };
    actions.push({ type, status: 'pending', detail: {} });
  }
  return { plan, actions };
}

/** SPEC §2: the forwarded text carries the customer's number and message. */
export function forwardText(m: { source: string; recipient: string; message: string }): string {
  return `SMS from ${m.source} to ${m.recipient}: ${m.message}`;
}

/** The email forward's subject and text: number, keyword, time, message id and the message. */
export function forwardEmail(m: { source: string; recipient: string; message: string; keyword: string | null }, vars: MessageVariables) {
  const keyword = m.keyword ?? '(default configuration)';
  return {
    subject: `SMS ${m.keyword ?? ''} from ${m.source} to ${m.recipient}`.replace(/\s+/g, ' '),
    text: [
      `From:     ${m.source}`,
      `To:       ${m.recipient}`,
      `Keyword:  ${keyword}`,
      `Received: ${vars.timestamp}`,
      `Message id: ${vars.id}`,
      '',
      m.message,
      '',
    ].join('\n'),
  };
}
