import { z } from 'zod';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { planSample, previewActions, REPLAY_CHUNK, ReplayTally, SAMPLE_SOURCE, type ActionPreview, type PreviewProfile, type SampleAnswer, type SampleConfig } from '../domain/dry-run.js';
import { profileSkipReason } from '../domain/callback-profile.js';
import { ValidationError } from '../domain/errors.js';
import { requireKeyring } from '../domain/keyring.js';
import { isExpired } from '../domain/matching.js';
import { normalizeNumber } from '../domain/phone.js';
import { checkWebhookDestination } from '../domain/private-networks.js';
import { openEnc } from '../domain/profile-secrets.js';
import { checkReceiveConfig, receiveConfigInputSchema } from '../domain/receive-config.js';
import type { PlannedAction, ProfileForRender } from '../domain/run-plan.js';
import { isOptedOut, type SubscriptionState } from '../domain/subscriptions.js';
import { inboundInputSchema } from '../ingest/ingest.js';
import { customerNumber, loadRoute, matchRoute, withConfig, type NumberRoute } from '../ingest/routing.js';
import { subscriptionStates } from '../outbound/send.js';
import type { RunPlan, WebhookRequest } from '../workflows/definitions.js';
import type { Account } from './auth.js';
import { ApiError, notFound } from './errors.js';
import { CURSOR_TIME_FORMAT, instant, toInstant } from './query.js';
import { checkConfigRules } from './receive-config-rules.js';

/**
 * `POST /v1/{sid}/receive-configs/dry-run` (SPEC §6): a sample message `{number, message,
 * source?}` answers what would match it and what each action would do; an unsaved `config`
 * with `since` is replayed over the account's stored messages of its number. Reads only:
 * nothing is sent, stored or started, and no token is fetched.
 */
export const dryRunInput = z
  .object({
    number: z.string().min(1).max(32).optional().describe("a sample's number, one of the account's; with config, config.number or left out"),
    message: inboundInputSchema.shape.message.optional().describe("a sample's text"),
    source: inboundInputSchema.shape.source.optional().describe(`a sample's customer number (default ${SAMPLE_SOURCE}, a fictional one)`),
    config: receiveConfigInputSchema.optional().describe('an unsaved receive configuration, validated as POST /receive-configs validates one'),
    since: instant.optional().describe("with config: replay the number's stored messages received since then"),
  })
  .strict()
  // The two modes, as the document can say them (the handler names the field out of place).
  .meta({
    description: 'a sample message {number, message, source?}, or an unsaved configuration {config, since} (number then optional, and config.number)',
    oneOf: [
      { required: ['number', 'message'], not: { anyOf: [{ required: ['config'] }, { required: ['since'] }] } },
      { required: ['config', 'since'], not: { anyOf: [{ required: ['message'] }, { required: ['source'] }] } },
    ],
  });
export type DryRunInput = z.output<typeof dryRunInput>;

const outcome = z.enum(['keyword', 'expired', 'default', 'standard', 'no_match']);
const smsPreview = {
  sender: z.string(), to: z.string(), text: z.string().describe('the text as it would be sent, variables rendered'),
  route: z.string().nullable(), template_id: z.string().nullable(),
  opted_out: z.boolean().describe('the recipient opted out of the sender: the SMS would be skipped'),
};
const webhookPreview = {
  delivery_id: z.string(), callback_profile_id: z.string().nullable(), url: z.string(), method: z.enum(['POST', 'GET']),
  headers: z.record(z.string(), z.string()).describe('as an attempt sends them; the signature, its timestamp, authorization and headers named like credentials show as placeholders'),
  body: z.string().nullable(),
};
const actionPreview = z.union([
  z.object({ type: z.literal('auto_reply'), status: z.enum(['pending', 'scheduled']), scheduled_at: z.string().nullable(), ...smsPreview }),
  z.object({ type: z.enum(['expiry_message', 'forward_sms']), status: z.literal('pending'), ...smsPreview }),
  z.object({ type: z.literal('forward_email'), status: z.literal('pending'), to: z.array(z.string()), subject: z.string(), text: z.string() }),
  z.object({
    type: z.enum(['subscribe', 'unsubscribe']), status: z.literal('pending'), customer: z.string(),
    scope: z.enum(['all', 'configured']), senders: z.array(z.string()).nullable(),
    accounts: z.enum(['this', 'number']).describe('number: every account on the shared short code'),
  }),
  z.object({ type: z.literal('trigger'), status: z.literal('pending'), ...webhookPreview }),
  z.object({ type: z.literal('trigger'), status: z.literal('skipped'), reason: z.string() }),
]);

/** A sample's answer (documented; the tests hold the answers to it). */
export const sampleAnswerSchema = z.object({
  number: z.string(), source: z.string(), message: z.string(), received_at: z.string(),
  outcome,
  matched: z.object({ phrase: z.string(), via: z.enum(['keyword', 'alias']) }).nullable(),
  config: z.object({
    id: z.string(), keyword: z.string().nullable(), aliases: z.array(z.string()), default: z.boolean(),
    template: z.string().nullable(), expires_at: z.string().nullable(), active: z.boolean(),
  }).nullable(),
  other_account: z.boolean().describe("a keyword of another account on the shared short code takes the message (not shown)"),
  standard: z.object({ word: z.string(), kind: z.enum(['opt_out', 'opt_in', 'help']) }).nullable(),
  variables: z.record(z.string(), z.string()).nullable(),
  parts: z.array(z.string()).nullable(),
  template_parts: z.record(z.string(), z.string()).nullable(),
  actions: z.array(actionPreview),
}).strict();

/** A replay's answer. */
export const replayAnswerSchema = z.object({
  number: z.string(), since: z.string(),
  judged_at: z.string().describe('matching is judged as if each message arrived now, against the configurations as they are now'),
  outcome: z.enum(['keyword', 'expired', 'default']).describe("the unsaved configuration's outcome for the messages it takes (expired: its expiry has passed)"),
  scanned: z.number().int().describe('how many messages were replayed: every one received from covered_from to covered_to'),
  limit: z.number().int().describe('how many messages one replay reads at most (DRY_RUN_MAX_MESSAGES)'),
  covered_from: z.string().nullable().describe('every message received at or after this time (up to covered_to) was replayed: since itself unless truncated; null when truncated before any'),
  covered_to: z.string().describe('the newest message replayed, or judged_at if later'),
  truncated: z.boolean().describe('the replay stopped before since (see truncated_reason): it covers the newest messages, from covered_from on'),
  truncated_reason: z.enum(['messages', 'time']).nullable().describe('messages: limit messages were read; time: DRY_RUN_MAX_SECONDS passed; null when not truncated'),
  oldest_scanned_at: z.string().nullable().describe('the oldest message replayed'),
  matched: z.number().int().describe('how many the unsaved configuration would take'),
  taken_from: z.array(z.object({
    outcome: z.enum(['keyword', 'expired', 'default', 'standard', 'no_match', 'unknown_number']),
    config_id: z.string().nullable(), keyword: z.string().nullable(), other_account: z.boolean(), count: z.number().int(),
  })).describe('what handles those messages today, most first'),
}).strict();

export const dryRunAnswerSchema = z.union([sampleAnswerSchema, replayAnswerSchema]);

export type DryRunDeps = { sql: Sql; config: Pick<Config, 'keys' | 'webhookAllowPrivateNetworks' | 'dryRun'> };

export function dryRun(deps: DryRunDeps, account: Account, input: DryRunInput): Promise<SampleAnswer | ReplayAnswer> {
  if (input.config) {
    for (const f of ['message', 'source'] as const) {
      if (input[f] !== undefined) throw new ValidationError(f, 'is for a sample message; a replay (config) takes since');
    }
    if (input.since === undefined) throw new ValidationError('since', 'is required with config');
    return replay(deps, account, { ...input, config: input.config, since: input.since });
  }
  if (input.since !== undefined) throw new ValidationError('since', 'is only used with config');
  if (input.number === undefined) throw new ValidationError('number', 'is required (or give config and since)');
  if (input.message === undefined) throw new ValidationError('message', 'is required (or give config and since)');
  return sample(deps, account, { number: input.number, message: input.message, source: input.source });
}

/** The number's routing, when the number is the account's; another account's, or none, is a 404 as everywhere. */
async function ownedRoute(sql: Sql, sid: string, number: string): Promise<NumberRoute> {
  const route = await loadRoute(sql, number);
  if (!route || !route.countries.has(sid)) throw notFound('number');
  return route;
}

type ConfigRow = Omit<SampleConfig, 'profile'> & {
  p_id: string | null; p_url: string; p_http_method: 'POST' | 'GET'; p_body: ProfileForRender['body']; p_content_type: string | null;
  p_enc: ProfileForRender['enc']; p_headers: Record<string, string> | null; p_auth_type: 'basic' | 'advanced' | null;
  p_status: string | null; p_disabled_reason: string | null;
};

/**
 * A sample message, matched as ingest matches (`matchRoute`) against the number's routing as
 * stored now, as if it arrived now, and planned as the run's prepare plans (`planSample`).
 */
async function sample(deps: DryRunDeps, account: Account, input: { number: string; message: string; source?: string }): Promise<SampleAnswer> {
  const { sql } = deps;
  const number = normalizeNumber(input.number);
  const route = await ownedRoute(sql, account.sid, number);
  const receivedAt = new Date();
  const match = matchRoute(route, input.message, receivedAt);
  const source = customerNumber(normalizeNumber(input.source ?? SAMPLE_SOURCE), number, route, match.sid);

  let config: SampleConfig | null = null;
  if (match.configId !== null && match.sid === account.sid) {
    const [c] = await sql<ConfigRow[]>`
      SELECT c.id AS c_id, c.keyword AS c_keyword, c.aliases, c.is_default, c.template, c.expires_at_local, c.template_names,
             c.expires_at, c.trigger, c.expiry_message, c.expiry_sender, c.expiry_route, c.expiry_template_id, c.auto_reply,
             c.reply_at, c.forward, c.subscribe, c.unsubscribe,
             p.id AS p_id, p.url AS p_url, p.http_method AS p_http_method, p.body AS p_body, p.content_type AS p_content_type,
             p.enc AS p_enc, p.headers AS p_headers, p.auth->>'type' AS p_auth_type, p.status AS p_status, p.disabled_reason AS p_disabled_reason
      FROM receive_configs c
      LEFT JOIN callback_profiles p ON p.id::text = c.trigger->>'callback_profile_id' AND p.sid = c.sid
      WHERE c.id = ${match.configId} AND c.sid = ${account.sid}`;
    if (!c) throw new ApiError(409, 'conflict', 'the matching configuration changed while the dry run read it; try again');
    const { p_id, p_url, p_http_method, p_body, p_content_type, p_enc, p_headers, p_auth_type, p_status, p_disabled_reason, ...rest } = c;
    config = {
      ...rest,
      profile: p_id === null ? null : {
        id: p_id, url: p_url, http_method: p_http_method, body: p_body, content_type: p_content_type,
        // opened as the run's prepare opens it: an encrypting profile's body shows its values encrypted, as sent
        enc: p_enc && openEnc(requireKeyring(deps.config.keys.secrets, 'SECRETS_KEY'), p_enc),
        headers: p_headers ?? {}, authType: p_auth_type,
        skip: profileSkipReason({ status: p_status!, disabled_reason: p_disabled_reason }),
      },
    };
  }
  const [texts] = match.outcome === 'standard' && match.sid
    ? await sql<{ opt_out_text: string | null; opt_in_text: string | null; help_text: string | null }[]>`
        SELECT opt_out_text, opt_in_text, help_text FROM accounts WHERE sid = ${match.sid}`
    : [];
  const sids = [...route.countries.keys()].sort();
  const { answer, planned, profile } = planSample({
    number, message: input.message, source, receivedAt, account, match, config,
    standard: { texts: texts ?? null, numberSids: sids, numberCountries: sids.map((s) => route.countries.get(s)!) },
  });
  if (planned) answer.actions = await preview(sql, planned, profile);
  return answer;
}

/** The planned actions as the answer shows them, each SMS checked against the opt-out list as the send checks it. */
async function preview(sql: Sql, planned: { plan: RunPlan; actions: PlannedAction[]; request?: WebhookRequest | null }, profile: PreviewProfile | null): Promise<ActionPreview[]> {
  const { plan } = planned;
  const recipients = [plan.autoReply, plan.expiryMessage, plan.forwardSms]
    .filter((a) => a !== null && !a.ignoreOptOut && a.sid !== null)
    .map((a) => a!.to);
  const states = new Map<string, SubscriptionState[]>();
  for (const to of new Set(recipients)) states.set(to, await subscriptionStates(sql, plan.sid!, to));
  return previewActions(planned, { profile, optedOut: (sender, to) => isOptedOut(states.get(to) ?? [], sender) });
}

export type ReplayAnswer = z.output<typeof replayAnswerSchema>;

/** A stored message as a replay reads it; `at` is its received_at to the microsecond (UTC), its place in the keyset. */
type ReplayRow = { seq: string; message: string; received_at: Date; at: string };

/** The unsaved configuration's stand-in id among the number's candidates. */
const UNSAVED = 'unsaved';

/**
 * An unsaved configuration, refused exactly as saving it would be (its errors name the field
 * under `config.`), replayed over the number's stored messages received since `since`: each
 * is matched with today's configurations, then with the unsaved one added, as if it arrived
 * now (`matchRoute`, so with ingest's rules: standard keywords first, longest phrase, active
 * before expired). The account's messages and those that are no one account's (an unknown
 * number then, or unmatched on a shared short code) are read; other accounts' are not.
 */
async function replay(deps: DryRunDeps, account: Account, input: DryRunInput & { config: NonNullable<DryRunInput['config']>; since: string }): Promise<ReplayAnswer> {
  const { sql } = deps;
  const now = new Date();
  const rec = underConfig(() => {
    checkWebhookDestination('trigger.url', input.config.trigger?.url, deps.config.webhookAllowPrivateNetworks);
    return checkReceiveConfig(input.config, account, now);
  });
  if (input.number !== undefined && normalizeNumber(input.number) !== rec.number) {
    throw new ValidationError('number', 'must be the configuration\'s number (config.number), or left out');
  }
  const route = await ownedRoute(sql, account.sid, rec.number);
  const phrases = await underConfigAsync(() => checkConfigRules(sql, account, rec, null, false));
  const since = toInstant('since', input.since, account.timezone);
  const after = withConfig(route, { id: UNSAVED, sid: account.sid, isDefault: rec.isDefault, keyword: rec.keyword, phrases, expiresAt: rec.expiresAt });

  // The window newest first, in chunks resuming after the last row read (received_at, seq:
  // inbound_messages_recipient_received), until it is read whole or the replay's budget of
  // messages or time is spent. The tally counts whole instants only, so that covered_from is
  // exact: an instant cut by the chunk that ran out of budget is left out.
  const { maxMessages, maxSeconds } = deps.config.dryRun;
  const deadline = performance.now() + maxSeconds * 1000;
  const tally = new ReplayTally(UNSAVED, account.sid);
  let read = 0;
  let last: { at: string; seq: string } | null = null;
  let newest: Date | null = null;
  let stopped: 'messages' | 'time' | null = null;
  for (;;) {
    const take = Math.min(REPLAY_CHUNK, maxMessages - read);
    const rows: ReplayRow[] = await sql<ReplayRow[]>`
      SELECT seq, message, received_at, to_char(received_at AT TIME ZONE 'UTC', ${CURSOR_TIME_FORMAT}) AS at FROM inbound_messages
      WHERE recipient = ${rec.number} AND received_at >= ${since} AND (sid = ${account.sid} OR sid IS NULL)
      ${last ? sql`AND received_at <= ${last.at}::text::timestamptz AND (received_at < ${last.at}::text::timestamptz OR seq < ${last.seq})` : sql``}
      ORDER BY received_at DESC, seq DESC
      LIMIT ${take + 1}`;
    const chunk = rows.slice(0, take);
    newest ??= chunk[0]?.received_at ?? null;
    for (const r of chunk) tally.add(r.at, { before: matchRoute(route, r.message, now), after: matchRoute(after, r.message, now) });
    read += chunk.length;
    if (rows.length <= take) break;
    last = { at: chunk.at(-1)!.at, seq: chunk.at(-1)!.seq };
    if (read >= maxMessages) stopped = 'messages';
    else if (performance.now() > deadline) stopped = 'time';
    if (stopped) {
      // The row after the last one read tells whether the last instant was read whole.
      tally.settle(rows[take]!.at !== last.at);
      break;
    }
  }
  if (!stopped) tally.settle(true);
  const { scanned, oldest, matched, taken_from } = tally.result();
  const iso = (at: string | null) => (at === null ? null : new Date(at).toISOString());
  return {
    number: rec.number,
    since: since.toISOString(),
    judged_at: now.toISOString(),
    outcome: rec.isDefault ? 'default' : isExpired(rec.expiresAt, now) ? 'expired' : 'keyword',
    scanned,
    limit: maxMessages,
    covered_from: stopped ? iso(oldest) : since.toISOString(),
    covered_to: (newest && newest > now ? newest : now).toISOString(),
    truncated: stopped !== null,
    truncated_reason: stopped,
    oldest_scanned_at: iso(oldest),
    matched,
    taken_from,
  };
}

/** A configuration's own errors, named as the fields of `config`. */
function prefixed(e: unknown): unknown {
  if (e instanceof ValidationError) return new ValidationError(`config.${e.field}`, e.message, e.code, e.status);
  if (e instanceof ApiError && e.field) return new ApiError(e.status, e.code, e.message, `config.${e.field}`);
  return e;
}

function underConfig<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw prefixed(e);
  }
}

async function underConfigAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw prefixed(e);
  }
}
