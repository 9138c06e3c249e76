import { WorkflowNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { replayAnswerSchema, sampleAnswerSchema } from '../../src/api/dry-run.js';
import { DEFAULT_STANDARD_TEXTS } from '../../src/domain/standard-keywords.js';
import { randomId, type Account, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';

// POST /v1/{sid}/receive-configs/dry-run over the real parts: PostgreSQL, a Temporal dev
// server, the suite's HTTP receiver as webhook endpoint and SMS gateway (`http` provider).
const s = temporalSuite();

const CUSTOMER = '+15551234567';
const TABLES = [
  'inbound_messages', 'message_actions', 'deliveries', 'delivery_attempts', 'outbox', 'subscriptions', 'subscription_events',
  'receive_configs', 'config_keywords', 'callback_profiles', 'delivery_reports',
];

async function rowCounts(): Promise<Record<string, number>> {
  const sql = s.h.sql;
  const counts = await Promise.all(TABLES.map(async (t) => [t, (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${sql(t)}`)[0]!.n] as const));
  return Object.fromEntries(counts);
}

/** An account with JOIN (alias SIGN UP, a template, reply, SMS forward, webhook), an expired OFFER and a default through a callback profile. */
async function setup(path: string): Promise<{ ctx: Ctx; a: Account; join: any; offer: any; deflt: any; profile: any }> {
  const ctx = s.h.context({ SMS_PROVIDER: 'http', SMS_HTTP_URL: s.hooks.url(`${path}/sms`) });
  const a = await ctx.account({ senders: ['ACME'] });
  const created = await a.call('POST', '/callback/profiles', {
    title: `Dry run ${randomId()}`, http_method: 'POST', url: s.hooks.url(`${path}/profile`),
    headers: { 'X-Tenant': 'acme', 'X-Api-Key': 'key-1234567' },
    auth: { type: 'basic', username: 'hook-user', password: 'pw-s3cret-value' },
  });
  expect(created.status).toBe(201);
  const join = await a.config({
    keyword: 'JOIN', aliases: ['SIGN UP'], template: 'JOIN <name> <city>',
    auto_reply: { sender: 'ACME', message: 'Hi <name> from <city>, welcome (<keyword>)' },
    forward: { sms: { to: '+15559876543', sender: 'ACME' } },
    trigger: { url: s.hooks.url(`${path}/join?from=<source>&city=<city>`), body: '{"name":"<name>","text":"<message>"}', content_type: 'application/json' },
  });
  const offer = await a.config({ keyword: 'OFFER', expires_at: '2020-01-01 00:00:00', expiry_message: 'Sorry <source>, the offer ended', expiry_sender: 'ACME' });
  const deflt = await a.config({ default: true, trigger: { callback_profile_id: created.body.id } });
  return { ctx, a, join, offer, deflt, profile: created.body };
}

const dryRun = (a: Account, body: Record<string, unknown>) => a.call('POST', '/receive-configs/dry-run', body);

describe('dry run of a sample message', () => {
  it('answers for a keyword, an alias, a template, an expired keyword, the default, a standard keyword and no match; nothing is sent or stored', async () => {
    const { ctx, a, join, offer, deflt, profile } = await setup('/sample');
    const b = await ctx.account();
    const before = await rowCounts();
    const requests = s.hooks.requests.length;

    const keyword = await dryRun(a, { number: a.number, message: 'join Priya New Delhi', source: CUSTOMER });
    expect(keyword.status).toBe(200);
    expect(keyword.body).toMatchObject({
      number: a.number, source: CUSTOMER, message: 'join Priya New Delhi', outcome: 'keyword',
      matched: { phrase: 'JOIN', via: 'keyword' }, other_account: false, standard: null,
      config: { id: join.id, keyword: 'JOIN', aliases: ['SIGN UP'], default: false, template: 'JOIN <name> <city>', active: true },
      variables: { source: CUSTOMER, recipient: a.number, keyword: 'JOIN', kid: join.id, id: 'dry-run', message: 'join Priya New Delhi' },
      parts: ['join', 'Priya', 'New', 'Delhi'],
      template_parts: { name: 'Priya', city: 'New Delhi' },
    });
    expect(keyword.body.actions).toEqual([
      { type: 'auto_reply', status: 'pending', scheduled_at: null, sender: 'ACME', to: CUSTOMER, text: 'Hi Priya from New Delhi, welcome (JOIN)', route: null, template_id: null, opted_out: false },
      { type: 'forward_sms', status: 'pending', sender: 'ACME', to: '+15559876543', text: `SMS from ${CUSTOMER} to ${a.number}: join Priya New Delhi`, route: null, template_id: null, opted_out: false },
      {
        type: 'trigger', status: 'pending', delivery_id: 'mo-dry-run-trigger', callback_profile_id: null, method: 'POST',
        url: s.hooks.url(`/sample/join?from=${encodeURIComponent(CUSTOMER)}&city=New%20Delhi`),
        body: '{"name":"Priya","text":"join Priya New Delhi"}',
        headers: {
          'user-agent': 'inbound-sms-keyword-engine/0.1', 'content-type': 'application/json', 'webhook-id': 'mo-dry-run-trigger',
          'webhook-timestamp': '[set at each attempt]', 'webhook-signature': 'v1,[redacted]',
        },
      },
    ]);

    const alias = await dryRun(a, { number: a.number, message: 'Sign up Asha Pune' });
    expect(alias.body).toMatchObject({
      outcome: 'keyword', matched: { phrase: 'SIGN UP', via: 'alias' }, config: { id: join.id },
      source: '+12025550123', template_parts: { name: 'Asha', city: 'Pune' },
    });
    expect(alias.body.actions[0]).toMatchObject({ type: 'auto_reply', text: 'Hi Asha from Pune, welcome (JOIN)', to: '+12025550123' });

    const expired = await dryRun(a, { number: a.number, message: 'OFFER now', source: CUSTOMER });
    expect(expired.body).toMatchObject({ outcome: 'expired', matched: { phrase: 'OFFER', via: 'keyword' }, config: { id: offer.id, active: false, expires_at: '2020-01-01 00:00:00' } });
    expect(expired.body.actions).toEqual([
      { type: 'expiry_message', status: 'pending', sender: 'ACME', to: CUSTOMER, text: `Sorry ${CUSTOMER}, the offer ended`, route: null, template_id: null, opted_out: false },
    ]);

    const fallback = await dryRun(a, { number: a.number, message: 'what are your hours', source: CUSTOMER });
    expect(fallback.body).toMatchObject({ outcome: 'default', matched: null, config: { id: deflt.id, default: true }, variables: { keyword: '', kid: deflt.id } });
    expect(fallback.body.actions).toHaveLength(1);
    const hook = fallback.body.actions[0];
    expect(hook).toMatchObject({ type: 'trigger', status: 'pending', callback_profile_id: profile.id, method: 'POST', url: s.hooks.url('/sample/profile') });
    expect(hook.headers).toMatchObject({ 'X-Tenant': 'acme', 'X-Api-Key': '[redacted]', authorization: 'Basic [redacted]', 'webhook-signature': 'v1,[redacted]' });
    expect(JSON.parse(hook.body)).toMatchObject({ source: CUSTOMER, recipient: a.number, message: 'what are your hours', kid: deflt.id, id: 'dry-run' });

    const standard = await dryRun(a, { number: a.number, message: 'stop', source: CUSTOMER });
    expect(standard.body).toMatchObject({ outcome: 'standard', standard: { word: 'STOP', kind: 'opt_out' }, config: null, variables: null });
    expect(standard.body.actions).toEqual([
      expect.objectContaining({ type: 'auto_reply', sender: a.number, to: CUSTOMER, text: DEFAULT_STANDARD_TEXTS.opt_out, opted_out: false }),
      { type: 'unsubscribe', status: 'pending', customer: CUSTOMER, scope: 'all', senders: null, accounts: 'this' },
    ]);

    const none = await dryRun(b, { number: b.number, message: 'hello there' });
    expect(none.body).toMatchObject({ outcome: 'no_match', matched: null, config: null, actions: [] });

    // Each answer is as the OpenAPI document describes it.
    const answers = [keyword.body, alias.body, expired.body, fallback.body, standard.body, none.body];
    for (const answer of answers) expect(sampleAnswerSchema.safeParse(answer).error).toBeUndefined();
    // Secrets of the profile, or the account's signing secret, appear nowhere.
    const all = JSON.stringify(answers);
    expect(all).not.toMatch(/pw-s3cret-value|key-1234567|whsec_|Basic [A-Za-z0-9+/=]{8,}/);

    // Nothing was sent, stored or started.
    expect(await rowCounts()).toEqual(before);
    expect(s.hooks.requests.length).toBe(requests);
    await expect(ctx.client.workflow.getHandle('mo-dry-run').describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('shows what the run then sends, to the character', async () => {
    const { ctx, a } = await setup('/same');
    const message = 'JOIN Ravi Navi Mumbai';
    const preview = (await dryRun(a, { number: a.number, message, source: CUSTOMER })).body;
    await ctx.withWorker(async () => {
      const res = await a.send(message, { id: randomId(), source: CUSTOMER });
      await ctx.result(res.body.workflow_id);
    });
    const sms = s.hooks.to('/same/sms').map((r) => JSON.parse(r.body));
    const reply = preview.actions.find((x: any) => x.type === 'auto_reply');
    const forward = preview.actions.find((x: any) => x.type === 'forward_sms');
    expect(sms).toEqual(expect.arrayContaining([
      expect.objectContaining({ sender: reply.sender, to: reply.to, body: reply.text }),
      expect.objectContaining({ sender: forward.sender, to: forward.to, body: forward.text }),
    ]));
    const [hook] = s.hooks.to('/same/join');
    const trigger = preview.actions.find((x: any) => x.type === 'trigger');
    expect(s.hooks.url(hook!.url)).toBe(trigger.url);
    expect(hook!.body).toBe(trigger.body);
    expect(hook!.headers['content-type']).toBe(trigger.headers['content-type']);
  });

  it("refuses another account's number, and bad input, naming the field", async () => {
    const { ctx, a } = await setup('/refuse');
    const b = await ctx.account();
    expect((await dryRun(b, { number: a.number, message: 'JOIN x' })).status).toBe(404);
    expect((await dryRun(b, { number: '+15550000000', message: 'JOIN x' })).status).toBe(404);
    const field = async (body: Record<string, unknown>) => {
      const res = await dryRun(a, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      return res.body.error.field;
    };
    expect(await field({ message: 'JOIN x' })).toBe('number');
    expect(await field({ number: a.number })).toBe('message');
    expect(await field({ number: a.number, message: 'x', since: '2026-01-01T00:00:00Z' })).toBe('since');
    expect(await field({ number: a.number, message: 'x', extra: 1 })).toBe('extra');

    // The document says both modes, and what the answer is.
    const op = (await ctx.request('GET', '/openapi.json')).body.paths['/v1/{sid}/receive-configs/dry-run'].post;
    expect(op.requestBody.content['application/json'].schema.oneOf.map((m: { required: string[] }) => m.required)).toEqual([['number', 'message'], ['config', 'since']]);
    expect(op.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DryRun' });
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '409']));
  });
});

describe('dry run of an unsaved configuration over stored messages', () => {
  it('counts the messages it would take, and from which configuration; nothing is stored', async () => {
    const { ctx, a, join, deflt } = await setup('/replay');
    const b = await ctx.account();
    const day = 24 * 3600 * 1000;
    const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
    const stored: [string, number][] = [
      ['join us now', 3600_000], ['JOIN US', 7200_000], ['join Priya Pune', 60_000], ['hello', 60_000], ['Hello again', 120_000],
      ['STOP', 60_000], ['offer', 60_000], ['join us later', 3 * day],
    ];
    for (const [message, ago] of stored) expect((await a.send(message, { id: randomId(), received_at: at(ago) })).status).toBe(202);
    // Another account's traffic on its own number is not read.
    expect((await ctx.ingest({ id: randomId(), source: CUSTOMER, recipient: b.number, message: 'join us', received_at: at(60_000) })).status).toBe(202);
    await ctx.starter.drain();
    const before = await rowCounts();

    const since = at(day);
    const joinUs = await dryRun(a, { since, config: { number: a.number, keyword: 'JOIN US', auto_reply: { sender: 'ACME', message: 'welcome' } } });
    expect(joinUs.status, JSON.stringify(joinUs.body)).toBe(200);
    expect(joinUs.body).toMatchObject({
      number: a.number, outcome: 'keyword', scanned: 7, limit: ctx.config.dryRun.maxMessages, truncated: false, truncated_reason: null,
      covered_from: new Date(since).toISOString(), matched: 2,
      taken_from: [{ outcome: 'keyword', config_id: join.id, keyword: 'JOIN', other_account: false, count: 2 }],
    });
    expect(new Date(joinUs.body.oldest_scanned_at).getTime()).toBeGreaterThan(Date.parse(since));

    const hello = await dryRun(a, { since, config: { number: a.number, keyword: 'HELLO', aliases: ['OFFER', 'JOIN US NOW'], subscribe: true } });
    expect(hello.body).toMatchObject({
      matched: 4,
      taken_from: [
        { outcome: 'default', config_id: deflt.id, keyword: null, count: 2 },
        { outcome: 'expired', keyword: 'OFFER', count: 1 },
        { outcome: 'keyword', config_id: join.id, count: 1 },
      ],
    });
    // Since longer ago, the older message counts too; a local time is read on the account's clock.
    const longer = await dryRun(a, { since: '2000-01-01 00:00:00', config: { number: a.number, keyword: 'JOIN US', subscribe: true } });
    expect(longer.body).toMatchObject({ scanned: 8, matched: 3 });
    for (const answer of [joinUs.body, hello.body, longer.body]) expect(replayAnswerSchema.safeParse(answer).error).toBeUndefined();

    expect(await rowCounts()).toEqual(before);
  });

  it('validates the configuration as saving it would, its errors named under config', async () => {
    const { ctx, a } = await setup('/validate');
    const since = '2026-01-01T00:00:00Z';
    const error = async (body: Record<string, unknown>) => (await dryRun(a, body)).body.error;
    expect(await error({ since, config: { number: a.number, trigger: { url: 'https://example.com' } } })).toMatchObject({ field: 'config.keyword' });
    expect(await error({ since, config: { number: a.number, keyword: 'X', auto_reply: { sender: 'ACME' } } })).toMatchObject({ field: 'config.auto_reply.message' });
    expect(await error({ since, config: { number: a.number, keyword: 'X' } })).toMatchObject({ field: 'config.actions' });
    expect(await error({ since, config: { number: a.number, keyword: 'X', auto_reply: { sender: 'NOPE', message: 'x' } } })).toMatchObject({ field: 'config.auto_reply.sender' });
    expect(await error({ since, config: { number: a.number, keyword: 'join', subscribe: true } })).toMatchObject({ code: 'keyword_taken', field: 'config.keyword' });
    expect(await error({ since, config: { number: a.number, keyword: 'STOP', subscribe: true } })).toMatchObject({ code: 'reserved_keyword', field: 'config.keyword' });
    expect(await error({ since, config: { number: a.number, default: true, subscribe: true } })).toMatchObject({ code: 'conflict', field: 'config.default' });
    expect(await error({ config: { number: a.number, keyword: 'X', subscribe: true } })).toMatchObject({ field: 'since' });
    expect(await error({ since: 'yesterday', config: { number: a.number, keyword: 'X', subscribe: true } })).toMatchObject({ field: 'since' });
    expect(await error({ since, message: 'x', config: { number: a.number, keyword: 'X', subscribe: true } })).toMatchObject({ field: 'message' });
    const b = await ctx.account();
    const other = await dryRun(b, { since, config: { number: a.number, keyword: 'X', subscribe: true } });
    expect(other.status).toBe(404);
  });
});
