import { normalizeKeyword, tokenize } from './keywords.js';
import { isExpired, type MatchOutcome } from './matching.js';
import { planRun, planStandard, type PlanConfig, type PlannedAction, type ProfileForRender } from './run-plan.js';
import { standardKeyword, type StandardKind } from './standard-keywords.js';
import type { MessageVariables } from './variables.js';
import { attemptHeaders } from './webhook.js';
import type { RunPlan, WebhookRequest } from '../workflows/definitions.js';

/**
 * The dry run (`POST /v1/{sid}/receive-configs/dry-run`): what a message would do, shown
 * without sending or storing anything. Matching, variables and the run's plan come from the
 * code the live path runs (`matchRoute`, `planRun`, `planStandard`); this file only turns
 * them into the answer, with secrets left out.
 */

/** The id a sample message is planned under: `<id>` renders as it, the delivery id is `mo-dry-run-trigger`. */
export const DRY_RUN_MESSAGE_ID = 'dry-run';

/**
 * The customer of a sample that names none: a fictional number (NANP 555-01xx), so rendered
 * texts show a number's place without naming anyone.
 */
export const SAMPLE_SOURCE = '+12025550123';

/**
 * How many stored messages a replay reads in one query: it reads the window newest first, in
 * chunks of this size, each resuming after the last (a keyset on received_at, seq).
 */
export const REPLAY_CHUNK = 5_000;

/** What shows for a value that is sent but never shown. */
export const REDACTED = '[redacted]';

/** The words of the message that matched, as a phrase: the keyword's or one of its aliases. */
export function matchedPhrase(message: string, matchedWords: number): string {
  return normalizeKeyword(tokenize(message).slice(0, matchedWords).join(' '));
}

// A profile's own headers are shown by the API already (docs/decisions.md), but a dry run's
// answer travels further (a console, a support ticket): anything named like a credential is hidden.
const SECRET_HEADER = /auth|token|secret|key|password|passwd|signature|cookie|session|credential/i;

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_HEADER.test(k) ? REDACTED : v]));
}

/** A callback profile as the webhook preview needs it: its extra headers and how it authenticates, never its secrets. */
export type PreviewProfile = { headers: Record<string, string>; authType: 'basic' | 'advanced' | null; skip: string | null };

export type WebhookPreview = {
  delivery_id: string;
  callback_profile_id: string | null;
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body: string | null;
};

/**
 * The request a delivery would send, with the headers merged as an attempt merges them
 * (`attemptHeaders`), but the signature, the timestamp it signs and the authorization left as
 * placeholders: they are made at each attempt, and an OAuth token is never fetched for a dry run.
 */
export function webhookPreview(request: WebhookRequest, profile: PreviewProfile | null): WebhookPreview {
  const auth = profile?.authType ?? null;
  return {
    delivery_id: request.deliveryId,
    callback_profile_id: request.profileId,
    url: request.url,
    method: request.method,
    headers: attemptHeaders({
      profile: redactHeaders(profile?.headers ?? {}),
      request: request.headers,
      signature: { 'webhook-id': request.deliveryId, 'webhook-timestamp': '[set at each attempt]', 'webhook-signature': `v1,${REDACTED}` },
      authorization: auth === 'basic' ? `Basic ${REDACTED}` : auth === 'advanced' ? `Bearer ${REDACTED}` : null,
    }),
    body: request.body,
  };
}

type SmsPreview = {
  sender: string; to: string; text: string; route: string | null; template_id: string | null;
  /** the customer (or the forward number) opted out of the sender: the SMS would be skipped */
  opted_out: boolean;
};

export type ActionPreview =
  | ({ type: 'auto_reply'; status: 'pending' | 'scheduled'; scheduled_at: string | null } & SmsPreview)
  | ({ type: 'expiry_message' | 'forward_sms'; status: 'pending' } & SmsPreview)
  | { type: 'forward_email'; status: 'pending'; to: string[]; subject: string; text: string }
  | {
      type: 'subscribe' | 'unsubscribe'; status: 'pending'; customer: string;
      scope: 'all' | 'configured'; senders: string[] | null;
      /** `number`: every account on the shared short code (a standard keyword that is no one account's) */
      accounts: 'this' | 'number';
    }
  | ({ type: 'trigger'; status: 'pending' } & WebhookPreview)
  | { type: 'trigger'; status: 'skipped'; reason: string };

/**
 * What each planned action would do, in the order the plan records them. `optedOut(sender,
 * to)` says whether the send would find the customer opted out (a standard keyword's
 * confirmation ignores it, as the send does).
 */
export function previewActions(
  planned: { plan: RunPlan; actions: PlannedAction[]; request?: WebhookRequest | null },
  extra: { profile: PreviewProfile | null; optedOut: (sender: string, to: string) => boolean },
): ActionPreview[] {
  const { plan } = planned;
  const sms = (a: { sender: string; to: string; body: string; route: string | null; templateId: string | null; ignoreOptOut?: boolean }): SmsPreview => ({
    sender: a.sender, to: a.to, text: a.body, route: a.route, template_id: a.templateId,
    opted_out: !a.ignoreOptOut && extra.optedOut(a.sender, a.to),
  });
  return planned.actions.map((action): ActionPreview => {
    switch (action.type) {
      case 'auto_reply': {
        const r = plan.autoReply!;
        return { type: 'auto_reply', status: r.at ? 'scheduled' : 'pending', scheduled_at: r.at, ...sms(r) };
      }
      case 'expiry_message':
        return { type: 'expiry_message', status: 'pending', ...sms(plan.expiryMessage!) };
      case 'forward_sms':
        return { type: 'forward_sms', status: 'pending', ...sms(plan.forwardSms!) };
      case 'forward_email': {
        const e = plan.forwardEmail!;
        return { type: 'forward_email', status: 'pending', to: e.to, subject: e.subject, text: e.text };
      }
      case 'subscribe':
      case 'unsubscribe': {
        const s = plan.subscription!;
        const c = s.change;
        return {
          type: action.type, status: 'pending', customer: s.msisdn,
          scope: c.kind === 'unsubscribe' && c.scope === 'configured' ? 'configured' : 'all',
          senders: c.kind === 'unsubscribe' && c.scope === 'configured' ? c.senders : null,
          accounts: plan.sid === null ? 'number' : 'this',
        };
      }
      case 'trigger': {
        if (action.status === 'skipped') return { type: 'trigger', status: 'skipped', reason: String(action.detail.reason) };
        // A disabled profile is not called: the attempt skips it (activities/webhook.ts).
        if (extra.profile?.skip) return { type: 'trigger', status: 'skipped', reason: extra.profile.skip };
        return { type: 'trigger', status: 'pending', ...webhookPreview(planned.request!, extra.profile) };
      }
      default:
        throw new Error(`unknown action ${action.type satisfies never}`);
    }
  });
}

/** The variables a configuration's templates see (SPEC §4), as they would render. */
export function variablesView(vars: MessageVariables) {
  const { parts, named, ...scalars } = vars;
  return { variables: scalars, parts, template_parts: named };
}

type ConfigSummary = { id: string; keyword: string | null; aliases: string[]; default: boolean; template: string | null; expires_at: string | null; active: boolean };

export type SampleAnswer = {
  number: string;
  source: string;
  message: string;
  received_at: string;
  outcome: Exclude<MatchOutcome, 'unknown_number'>;
  /** the phrase that matched, and whether it is the keyword or an alias */
  matched: { phrase: string; via: 'keyword' | 'alias' } | null;
  config: ConfigSummary | null;
  /** a keyword of another account on the shared short code takes the message: not shown */
  other_account: boolean;
  standard: { word: string; kind: StandardKind } | null;
  variables: Record<string, string> | null;
  parts: string[] | null;
  template_parts: Record<string, string> | null;
  actions: ActionPreview[];
};

/** The matched configuration as stored, with its callback profile (its encryption settings opened). */
export type SampleConfig = PlanConfig & {
  c_keyword: string | null; aliases: string[]; is_default: boolean; template: string | null; expires_at_local: string | null;
  profile: (ProfileForRender & PreviewProfile) | null;
};

export type SamplePlan = {
  answer: SampleAnswer;
  planned: { plan: RunPlan; actions: PlannedAction[]; request: WebhookRequest | null } | null;
  profile: PreviewProfile | null;
};

/**
 * A sample message's answer, all but its actions' opt-out check (`previewActions` does that
 * with the list the caller reads): the outcome `matchRoute` gave it, and the run `planRun` or
 * `planStandard` plans for it under the id `dry-run`. `config` is the matched configuration
 * when it is the account's own; `standard` what a standard keyword's run reads.
 */
export function planSample(input: {
  number: string; message: string; source: string; receivedAt: Date;
  account: { sid: string; timezone: string };
  match: ReplayMatch & { matchedWords: number };
  config: SampleConfig | null;
  standard: { texts: { opt_out_text: string | null; opt_in_text: string | null; help_text: string | null } | null; numberSids: string[]; numberCountries: string[] };
}): SamplePlan {
  const { match, config: c } = input;
  const answer: SampleAnswer = {
    number: input.number, source: input.source, message: input.message, received_at: input.receivedAt.toISOString(),
    outcome: match.outcome as SampleAnswer['outcome'], matched: null, config: null, other_account: false, standard: null,
    variables: null, parts: null, template_parts: null, actions: [],
  };
  if (match.outcome === 'standard') {
    answer.standard = standardKeyword(input.message);
    const texts = input.standard.texts;
    const planned = planStandard({
      id: DRY_RUN_MESSAGE_ID, sid: match.sid, source: input.source, recipient: input.number, message: input.message, received_at: input.receivedAt,
      opt_out_text: texts?.opt_out_text ?? null, opt_in_text: texts?.opt_in_text ?? null, help_text: texts?.help_text ?? null,
      // a message that is no one account's (on a shared short code) changes every account's list there
      number_sids: match.sid ? null : input.standard.numberSids, number_countries: match.sid ? null : input.standard.numberCountries,
    });
    return { answer, planned: planned && { ...planned, request: null }, profile: null };
  }
  if (match.configId === null) return { answer, planned: null, profile: null };
  if (match.sid !== input.account.sid || !c || c.c_id !== match.configId) {
    answer.other_account = match.sid !== input.account.sid;
    return { answer, planned: null, profile: null };
  }
  answer.config = {
    id: c.c_id, keyword: c.c_keyword, aliases: c.aliases, default: c.is_default, template: c.template,
    expires_at: c.expires_at_local, active: !isExpired(c.expires_at, input.receivedAt),
  };
  if (match.outcome !== 'default') {
    const phrase = matchedPhrase(input.message, match.matchedWords);
    answer.matched = { phrase, via: phrase === c.c_keyword ? 'keyword' : 'alias' };
  }
  const planned = planRun({
    id: DRY_RUN_MESSAGE_ID, sid: input.account.sid, source: input.source, recipient: input.number, message: input.message,
    operator: null, circle: null, received_at: input.receivedAt, keyword: match.keyword, outcome: match.outcome,
    matched_words: match.matchedWords, timezone: input.account.timezone, ...c,
  }, { stored: null, profile: () => c.profile });
  Object.assign(answer, variablesView(planned.vars));
  return { answer, planned, profile: c.profile };
}

/** How one message is matched, as `matchRoute` answers, reduced to what a replay tallies. */
export type ReplayMatch = { outcome: MatchOutcome; configId: string | null; keyword: string | null; sid: string | null };

export type TakenFrom = {
  outcome: MatchOutcome;
  config_id: string | null;
  keyword: string | null;
  /** the configuration is another account's (on a shared short code): not named */
  other_account: boolean;
  count: number;
};

/**
 * A replay's count: of the messages the unsaved configuration (`newId`) wins, how many, and
 * what handles each today (`before`): a configuration (by id and keyword), the default,
 * a standard keyword or nothing. Another account's configuration is counted, not named.
 */
export function tallyReplay(pairs: { before: ReplayMatch; after: ReplayMatch }[], newId: string, sid: string): { matched: number; taken_from: TakenFrom[] } {
  const tally = new ReplayTally(newId, sid);
  for (const pair of pairs) tally.add('', pair);
  tally.settle(true);
  const { matched, taken_from } = tally.result();
  return { matched, taken_from };
}

/**
 * A replay's count kept as the messages are read, newest first, so that what it covered can
 * be said exactly: a replay that stops early counts only whole instants. The messages of the
 * oldest instant read so far are held back until an older one shows that instant is done
 * (`add`), or the reader says whether it is (`settle`); held back and then dropped, they are
 * not counted, and the replay covers from the instant after.
 */
export class ReplayTally {
  private readonly groups = new Map<string, TakenFrom>();
  private matched = 0;
  private counted = 0;
  /** the oldest instant counted whole */
  private oldest: string | null = null;
  private held: { at: string; pairs: { before: ReplayMatch; after: ReplayMatch }[] } | null = null;

  constructor(private readonly newId: string, private readonly sid: string) {}

  /** One message, received at `at` (no later than the one before it). */
  add(at: string, pair: { before: ReplayMatch; after: ReplayMatch }): void {
    if (this.held && this.held.at !== at) this.settle(true);
    this.held ??= { at, pairs: [] };
    this.held.pairs.push(pair);
  }

  /** The messages held back (the oldest instant read): counted when that instant was read whole, else dropped. */
  settle(whole: boolean): void {
    const held = this.held;
    this.held = null;
    if (!held || !whole) return;
    for (const pair of held.pairs) this.count(pair);
    this.counted += held.pairs.length;
    this.oldest = held.at;
  }

  result(): { scanned: number; oldest: string | null; matched: number; taken_from: TakenFrom[] } {
    const taken_from = [...this.groups.values()].sort((a, b) => b.count - a.count || a.outcome.localeCompare(b.outcome));
    return { scanned: this.counted, oldest: this.oldest, matched: this.matched, taken_from };
  }

  private count({ before, after }: { before: ReplayMatch; after: ReplayMatch }): void {
    if (after.configId !== this.newId) return;
    this.matched++;
    const other = before.configId !== null && before.sid !== this.sid;
    const configId = other ? null : before.configId;
    const key = `${before.outcome}|${configId ?? ''}|${other}`;
    const group = this.groups.get(key) ?? { outcome: before.outcome, config_id: configId, keyword: other ? null : before.keyword, other_account: other, count: 0 };
    group.count++;
    this.groups.set(key, group);
  }
}
