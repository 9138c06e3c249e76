import { describe, expect, it } from 'vitest';
import { planSample, previewActions, redactHeaders, tallyReplay, webhookPreview, type SampleConfig } from '../../src/domain/dry-run.js';
import { decryptValue } from '../../src/domain/encryption.js';
import { DEFAULT_STANDARD_TEXTS } from '../../src/domain/standard-keywords.js';
import { matchRoute, withConfig, type NumberRoute } from '../../src/ingest/routing.js';

// The dry run's pure core over a hand-made routing (as loadRoute reads it): matchRoute picks,
// planSample plans the run with the live path's planner, previewActions shows it.

const SID = 'HXUS000000000001';
const OTHER = 'HXUS000000000002';
const NUMBER = '+15555550100';
const SOURCE = '+15551234567';
const NOW = new Date('2026-06-01T12:00:00Z');
const PAST = new Date('2026-01-01T00:00:00Z');

type Cfg = Partial<SampleConfig> & { c_id: string };

/** A stored configuration as the dry run reads it: no actions unless given. */
function config(c: Cfg): SampleConfig {
  return {
    c_keyword: null, aliases: [], is_default: false, template: null, expires_at_local: null, template_names: [], expires_at: null,
    expiry_message: null, expiry_sender: null, expiry_route: null, expiry_template_id: null, auto_reply: null, reply_at: null,
    forward: null, subscribe: false, unsubscribe: null, trigger: null, profile: null,
    ...c,
  };
}

const JOIN = config({
  c_id: 'cfg-join', c_keyword: 'JOIN', aliases: ['SIGN UP'], template: 'JOIN <name> <city>', template_names: ['name', 'city'],
  auto_reply: { sender: 'ACME', message: 'Hi <name> from <city>, you texted <keyword> (<parts[2]>)', schedule: { type: 'instant' } },
  forward: { sms: { to: '+15559876543', sender: 'ACME' }, email: { to: ['ops@example.com'] } },
  trigger: { url: 'https://hooks.example.com/mo?from=<source>', method: 'POST', body: '{"name":"<name>","text":"<message>"}', content_type: 'application/json' },
});
const OFFER = config({
  c_id: 'cfg-offer', c_keyword: 'OFFER', expires_at: PAST, expires_at_local: '2026-01-01 00:00:00',
  expiry_message: 'Sorry <source>, the offer has ended', expiry_sender: 'ACME',
  auto_reply: { sender: 'ACME', message: 'never sent', schedule: { type: 'instant' } },
});
const DEFAULT = config({
  c_id: 'cfg-default', is_default: true, subscribe: true,
  auto_reply: { sender: 'ACME', message: 'We got "<message>" at <timestamp>', schedule: { type: 'instant' } },
});
const CONFIGS = new Map([JOIN, OFFER, DEFAULT].map((c) => [c.c_id, c]));

function route(opts: { withDefault?: boolean; shared?: boolean } = {}): NumberRoute {
  const keywords: NumberRoute['keywords'] = new Map([
    ['JOIN', [{ configId: 'cfg-join', sid: SID, phrase: 'JOIN', keyword: 'JOIN', expiresAt: null }]],
    ['SIGN', [{ configId: 'cfg-join', sid: SID, phrase: 'SIGN UP', keyword: 'JOIN', expiresAt: null }]],
    ['OFFER', [{ configId: 'cfg-offer', sid: SID, phrase: 'OFFER', keyword: 'OFFER', expiresAt: PAST }]],
  ]);
  // another account's keyword, as a shared short code may hold
  if (opts.shared) keywords.set('DEAL', [{ configId: 'cfg-deal', sid: OTHER, phrase: 'DEAL', keyword: 'DEAL', expiresAt: null }]);
  return {
    number: NUMBER,
    owner: opts.shared ? null : SID,
    countries: new Map(opts.shared ? [[SID, 'US'], [OTHER, 'IN']] : [[SID, 'US']]),
    standardKeywords: true,
    defaultConfig: opts.withDefault === false ? null : { id: 'cfg-default', sid: SID },
    keywords,
  };
}

/** What the dry run answers for `message`, its actions checked against `optedOut`. */
function dryRun(message: string, opts: { route?: NumberRoute; optedOut?: (sender: string, to: string) => boolean; timezone?: string } = {}) {
  const r = opts.route ?? route();
  const match = matchRoute(r, message, NOW);
  const mine = match.configId !== null && match.sid === SID ? CONFIGS.get(match.configId)! : null;
  const sids = [...r.countries.keys()].sort();
  const { answer, planned, profile } = planSample({
    number: NUMBER, message, source: SOURCE, receivedAt: NOW, account: { sid: SID, timezone: opts.timezone ?? 'Asia/Kolkata' },
    match, config: mine,
    standard: { texts: match.sid ? { opt_out_text: null, opt_in_text: null, help_text: 'Call 555-0100' } : null, numberSids: sids, numberCountries: sids.map((s) => r.countries.get(s)!) },
  });
  if (planned) answer.actions = previewActions(planned, { profile, optedOut: opts.optedOut ?? (() => false) });
  return answer;
}

describe('dry run of a sample message (SPEC §3, §4)', () => {
  it('a keyword: the configuration, its variables, and each action rendered', () => {
    const a = dryRun('join Priya New Delhi');
    expect(a).toMatchObject({
      outcome: 'keyword', matched: { phrase: 'JOIN', via: 'keyword' }, other_account: false, standard: null,
      config: { id: 'cfg-join', keyword: 'JOIN', aliases: ['SIGN UP'], default: false, template: 'JOIN <name> <city>', active: true },
    });
    expect(a.variables).toMatchObject({
      source: SOURCE, recipient: NUMBER, message: 'join Priya New Delhi', keyword: 'JOIN', id: 'dry-run', kid: 'cfg-join',
      timestamp: '2026-06-01 17:30:00', status: 'SENT',
    });
    expect(a.parts).toEqual(['join', 'Priya', 'New', 'Delhi']);
    expect(a.actions.map((x) => x.type)).toEqual(['auto_reply', 'forward_sms', 'forward_email', 'trigger']);
    expect(a.actions[0]).toEqual({
      type: 'auto_reply', status: 'pending', scheduled_at: null, sender: 'ACME', to: SOURCE,
      text: 'Hi Priya from New Delhi, you texted JOIN (Priya)', route: null, template_id: null, opted_out: false,
    });
    expect(a.actions[1]).toMatchObject({ type: 'forward_sms', to: '+15559876543', text: `SMS from ${SOURCE} to ${NUMBER}: join Priya New Delhi` });
    expect(a.actions[2]).toMatchObject({ type: 'forward_email', to: ['ops@example.com'], subject: `SMS JOIN from ${SOURCE} to ${NUMBER}` });
    expect(a.actions[3]).toEqual({
      type: 'trigger', status: 'pending', delivery_id: 'mo-dry-run-trigger', callback_profile_id: null, method: 'POST',
      url: `https://hooks.example.com/mo?from=${encodeURIComponent(SOURCE)}`,
      body: '{"name":"Priya","text":"join Priya New Delhi"}',
      headers: {
        'user-agent': 'inbound-sms-keyword-engine/0.1', 'content-type': 'application/json',
        'webhook-id': 'mo-dry-run-trigger', 'webhook-timestamp': '[set at each attempt]', 'webhook-signature': 'v1,[redacted]',
      },
    });
  });

  it('an alias: the configuration of its keyword, <keyword> still the keyword, parts bound after the alias', () => {
    const a = dryRun('Sign  up Asha Pune');
    expect(a).toMatchObject({ outcome: 'keyword', matched: { phrase: 'SIGN UP', via: 'alias' }, config: { id: 'cfg-join' } });
    expect(a.variables).toMatchObject({ keyword: 'JOIN', kid: 'cfg-join' });
    expect(a.template_parts).toEqual({ name: 'Asha', city: 'Pune' });
  });

  it('a template with parts: the last part takes the rest, a missing one is empty', () => {
    expect(dryRun('JOIN Priya New Delhi').template_parts).toEqual({ name: 'Priya', city: 'New Delhi' });
    const short = dryRun('JOIN Priya');
    expect(short.template_parts).toEqual({ name: 'Priya', city: '' });
    expect(short.actions[0]).toMatchObject({ text: 'Hi Priya from , you texted JOIN (Priya)' });
  });

  it('an expired keyword: only its expiry message, no fallback to the default', () => {
    const a = dryRun('offer please');
    expect(a).toMatchObject({ outcome: 'expired', matched: { phrase: 'OFFER', via: 'keyword' }, config: { id: 'cfg-offer', active: false, expires_at: '2026-01-01 00:00:00' } });
    expect(a.actions).toEqual([{
      type: 'expiry_message', status: 'pending', sender: 'ACME', to: SOURCE, text: `Sorry ${SOURCE}, the offer has ended`,
      route: null, template_id: null, opted_out: false,
    }]);
  });

  it('the default: no matched phrase, its actions in the order the run takes them', () => {
    const a = dryRun('what are your hours?');
    expect(a).toMatchObject({ outcome: 'default', matched: null, config: { id: 'cfg-default', default: true, keyword: null } });
    expect(a.variables).toMatchObject({ keyword: '', kid: 'cfg-default', timestamp: '2026-06-01 17:30:00' });
    expect(a.actions).toEqual([
      expect.objectContaining({ type: 'auto_reply', text: 'We got "what are your hours?" at 2026-06-01 17:30:00' }),
      { type: 'subscribe', status: 'pending', customer: SOURCE, scope: 'all', senders: null, accounts: 'this' },
    ]);
  });

  it('a standard keyword: before any configuration, the account\'s text, sent whatever the opt-outs', () => {
    const stop = dryRun(' stop ', { optedOut: () => true });
    expect(stop).toMatchObject({ outcome: 'standard', standard: { word: 'STOP', kind: 'opt_out' }, config: null, variables: null });
    expect(stop.actions).toEqual([
      { type: 'auto_reply', status: 'pending', scheduled_at: null, sender: NUMBER, to: SOURCE, text: DEFAULT_STANDARD_TEXTS.opt_out, route: null, template_id: null, opted_out: false },
      { type: 'unsubscribe', status: 'pending', customer: SOURCE, scope: 'all', senders: null, accounts: 'this' },
    ]);
    const help = dryRun('HELP');
    expect(help.actions).toEqual([expect.objectContaining({ type: 'auto_reply', text: 'Call 555-0100' })]);
    // On a shared short code a STOP is no one account's: every account's list, the default text.
    const shared = dryRun('STOP', { route: route({ shared: true, withDefault: false }) });
    expect(shared.actions).toEqual([
      expect.objectContaining({ type: 'auto_reply', text: DEFAULT_STANDARD_TEXTS.opt_out }),
      expect.objectContaining({ type: 'unsubscribe', accounts: 'number' }),
    ]);
  });

  it('no match: nothing would run', () => {
    const a = dryRun('hello', { route: route({ withDefault: false }) });
    expect(a).toMatchObject({ outcome: 'no_match', matched: null, config: null, variables: null, actions: [] });
  });

  it("another account's keyword on a shared short code is named as such, never shown", () => {
    const a = dryRun('deal please', { route: route({ shared: true, withDefault: false }) });
    expect(a).toMatchObject({ outcome: 'keyword', other_account: true, config: null, variables: null, actions: [] });
  });

  it('an SMS to a customer who opted out of its sender is marked', () => {
    const a = dryRun('JOIN Priya', { optedOut: (sender, to) => sender === 'ACME' && to === SOURCE });
    expect(a.actions.filter((x) => 'opted_out' in x).map((x) => [x.type, (x as { opted_out: boolean }).opted_out]))
      .toEqual([['auto_reply', true], ['forward_sms', false]]);
  });
});

describe('webhook preview', () => {
  const request = {
    deliveryId: 'mo-dry-run-trigger', logId: 'dry-run', sid: SID, profileId: 'p1', url: 'https://h.example.com/x', method: 'POST' as const,
    headers: { 'user-agent': 'ua', 'webhook-id': 'mo-dry-run-trigger', 'content-type': 'application/json' }, body: '{}',
  };

  it("shows a profile's headers, hides any named like a credential, and never its auth or signature", () => {
    const p = webhookPreview(request, { headers: { 'X-Tenant': 'acme', 'X-Api-Key': 'k-123', Authorization: 'Token abc' }, authType: 'advanced', skip: null });
    expect(p.headers).toEqual({
      'X-Tenant': 'acme', 'X-Api-Key': '[redacted]', Authorization: '[redacted]',
      'user-agent': 'ua', 'webhook-id': 'mo-dry-run-trigger', 'content-type': 'application/json',
      'webhook-timestamp': '[set at each attempt]', 'webhook-signature': 'v1,[redacted]', authorization: 'Bearer [redacted]',
    });
    expect(JSON.stringify(p)).not.toMatch(/k-123|abc/);
    expect(webhookPreview(request, { headers: {}, authType: 'basic', skip: null }).headers.authorization).toBe('Basic [redacted]');
  });

  it('redacts by header name', () => {
    expect(redactHeaders({ 'x-session-id': 's', 'X-Secret': 's', 'x-request-source': 'crm', cookie: 'c' }))
      .toEqual({ 'x-session-id': '[redacted]', 'X-Secret': '[redacted]', 'x-request-source': 'crm', cookie: '[redacted]' });
  });

  it("a profile's encrypted fields show encrypted, as sent", () => {
    const enc = { algorithm: 'AES-256-GCM' as const, key: 'k'.repeat(32), iv: 'i'.repeat(12), fields: ['message'] };
    const profiled = config({
      c_id: 'cfg-join', c_keyword: 'JOIN', trigger: { callback_profile_id: 'p1' },
      profile: { id: 'p1', url: 'https://h.example.com/x', http_method: 'POST', body: null, content_type: null, enc, headers: {}, authType: null, skip: null },
    });
    const r = route();
    const match = matchRoute(r, 'JOIN secret words', NOW);
    const { planned, profile } = planSample({
      number: NUMBER, message: 'JOIN secret words', source: SOURCE, receivedAt: NOW, account: { sid: SID, timezone: 'UTC' },
      match, config: profiled, standard: { texts: null, numberSids: [SID], numberCountries: ['US'] },
    });
    const [trigger] = previewActions(planned!, { profile, optedOut: () => false });
    const body = JSON.parse((trigger as { body: string }).body);
    expect(body.source).toBe(SOURCE);
    expect(body.message).not.toContain('secret');
    expect(decryptValue(enc, body.message)).toBe('JOIN secret words');
  });

  it('a disabled profile is shown as skipped, with the reason', () => {
    const profiled = config({
      c_id: 'cfg-join', c_keyword: 'JOIN', trigger: { callback_profile_id: 'p1' },
      profile: { id: 'p1', url: 'https://h.example.com/x', http_method: 'POST', body: null, content_type: null, enc: null, headers: {}, authType: null, skip: 'callback profile is disabled' },
    });
    const match = matchRoute(route(), 'JOIN', NOW);
    const { planned, profile } = planSample({
      number: NUMBER, message: 'JOIN', source: SOURCE, receivedAt: NOW, account: { sid: SID, timezone: 'UTC' },
      match, config: profiled, standard: { texts: null, numberSids: [SID], numberCountries: ['US'] },
    });
    expect(previewActions(planned!, { profile, optedOut: () => false })).toEqual([{ type: 'trigger', status: 'skipped', reason: 'callback profile is disabled' }]);
  });
});

describe('replay of an unsaved configuration', () => {
  const replay = (messages: string[], unsaved: { isDefault?: boolean; keyword?: string | null; phrases?: string[]; expiresAt?: Date | null }, r = route()) => {
    const after = withConfig(r, { id: 'new', sid: SID, isDefault: unsaved.isDefault ?? false, keyword: unsaved.keyword ?? null, phrases: unsaved.phrases ?? [], expiresAt: unsaved.expiresAt ?? null });
    return tallyReplay(messages.map((m) => ({ before: matchRoute(r, m, NOW), after: matchRoute(after, m, NOW) })), 'new', SID);
  };
  const messages = ['JOIN a', 'join us now', 'JOIN', 'offer', 'OFFER 2', 'hello', 'STOP', 'JOINED', 'sign up x', 'deal'];

  it('counts the messages a longer phrase takes from a keyword, by configuration', () => {
    expect(replay(messages, { keyword: 'JOIN US', phrases: ['JOIN US'] })).toEqual({
      matched: 1, taken_from: [{ outcome: 'keyword', config_id: 'cfg-join', keyword: 'JOIN', other_account: false, count: 1 }],
    });
  });

  it('an active keyword takes an expired one\'s messages; the default\'s messages when it is new; never a standard keyword', () => {
    expect(replay(messages, { keyword: 'OFFER', phrases: ['OFFER', 'HELLO', 'STOP'] })).toEqual({
      matched: 3,
      taken_from: [
        { outcome: 'expired', config_id: 'cfg-offer', keyword: 'OFFER', other_account: false, count: 2 },
        { outcome: 'default', config_id: 'cfg-default', keyword: null, other_account: false, count: 1 },
      ],
    });
  });

  it('an expired unsaved keyword takes nothing from an active one of the same length, and counts what it takes', () => {
    expect(replay(messages, { keyword: 'JOINED', phrases: ['JOINED'], expiresAt: PAST })).toEqual({
      matched: 1, taken_from: [{ outcome: 'default', config_id: 'cfg-default', keyword: null, other_account: false, count: 1 }],
    });
  });

  it('a new default takes the unmatched messages only', () => {
    const r = route({ withDefault: false });
    expect(replay(messages, { isDefault: true }, r)).toEqual({
      matched: 3, taken_from: [{ outcome: 'no_match', config_id: null, keyword: null, other_account: false, count: 3 }],
    });
  });

  it("names no other account's configuration", () => {
    const r = route({ shared: true, withDefault: false });
    expect(replay(['deal now', 'deal'], { keyword: 'DEAL NOW', phrases: ['DEAL NOW'] }, r)).toEqual({
      matched: 1, taken_from: [{ outcome: 'keyword', config_id: null, keyword: null, other_account: true, count: 1 }],
    });
  });
});
