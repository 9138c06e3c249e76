import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, Harness, INGEST_TOKEN, randomId, randomLongCode, randomShortCode, type Account, type Ctx, type Res } from '../helpers/harness.js';

// PostgreSQL only: without a Temporal server the app still validates, stores and ingests.
let h: Harness;
beforeAll(async () => {
  h = await Harness.create();
});
afterAll(async () => {
  await h?.close();
});

const hook = { url: 'https://example.com/mo' };

/** A 4xx in the one error shape of SPEC §6, naming the field. */
function expectRefused(res: Res, status: number, field: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toEqual({ error: { code: expect.any(String), message: expect.any(String), field } });
  expect(res.body.error.message.length).toBeGreaterThan(3);
}

/** A 401 in the error shape, without the data. */
function expectUnauthorized(res: Res) {
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
}

const post = (a: Account, body: Record<string, unknown>) => a.call('POST', '/receive-configs', { number: a.number, ...body });

describe('accounts', () => {
  const create = (ctx: Ctx, body: unknown) => ctx.admin('POST', '/accounts', body);

  it('creates an account with an upper-cased country and UTC by default', async () => {
    const res = await create(h.context(), { name: `Acme ${randomId()}`, country: 'in' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ sid: expect.any(String), api_key: expect.any(String), country: 'IN', timezone: 'UTC' });
  });

  it('needs a name', async () => {
    const ctx = h.context();
    expectRefused(await create(ctx, { country: 'US' }), 400, 'name');
    expectRefused(await create(ctx, { name: '   ', country: 'US' }), 400, 'name');
    expectRefused(await create(ctx, { name: 'x'.repeat(201), country: 'US' }), 400, 'name');
  });

  it('needs a two-letter country code', async () => {
    const ctx = h.context();
    expectRefused(await create(ctx, { name: 'Acme' }), 400, 'country');
    expectRefused(await create(ctx, { name: 'Acme', country: 'IND' }), 400, 'country');
    expectRefused(await create(ctx, { name: 'Acme', country: 'I1' }), 400, 'country');
    expectRefused(await create(ctx, { name: 'Acme', country: 'ZZ' }), 400, 'country');
  });

  it('needs an IANA time zone', async () => {
    const ctx = h.context();
    expectRefused(await create(ctx, { name: 'Acme', country: 'IN', timezone: 'India/Delhi' }), 400, 'timezone');
    expectRefused(await create(ctx, { name: 'Acme', country: 'IN', timezone: '+05:30x' }), 400, 'timezone');
    expectRefused(await create(ctx, { name: 'Acme', country: 'IN', timezone: 5.5 }), 400, 'timezone');
  });

  it('refuses unknown fields and a body that is not a JSON object', async () => {
    const ctx = h.context();
    expectRefused(await create(ctx, { name: 'Acme', country: 'IN', plan: 'gold' }), 400, 'plan');
    expectRefused(await create(ctx, '{"name": '), 400, 'body');
    expectRefused(await create(ctx, ['Acme']), 400, 'body');
  });
});

describe('numbers', () => {
  const create = (ctx: Ctx, body: unknown) => ctx.admin('POST', '/numbers', body);

  it('stores a long code in E.164, however it is written', async () => {
    const digits = randomLongCode().slice(1);
    const spaced = `+${digits.slice(0, 2)} ${digits.slice(2, 7)} ${digits.slice(7)}`;
    const res = await create(h.context(), { number: spaced, kind: 'long_code' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ number: `+${digits}`, kind: 'long_code', shared: false });
  });

  it('refuses a long code that is not E.164 with its country code', async () => {
    const ctx = h.context();
    expectRefused(await create(ctx, { number: '9876543210', kind: 'long_code' }), 400, 'number');
    expectRefused(await create(ctx, { number: '+91 98765', kind: 'long_code' }), 400, 'number');
    expectRefused(await create(ctx, { number: 'KLRHXA', kind: 'long_code' }), 400, 'number');
  });

  it('takes a short code of 5 or 6 digits only', async () => {
    const ctx = h.context();
    expect((await create(ctx, { number: randomShortCode(), kind: 'short_code' })).status).toBe(201);
    expectRefused(await create(ctx, { number: '1234', kind: 'short_code' }), 400, 'number');
    expectRefused(await create(ctx, { number: '1234567', kind: 'short_code' }), 400, 'number');
    expectRefused(await create(ctx, { number: randomLongCode(), kind: 'short_code' }), 400, 'number');
  });

  it('shares only short codes', async () => {
    const ctx = h.context();
    expectRefused(await create(ctx, { number: randomLongCode(), kind: 'long_code', shared: true }), 400, 'shared');
    const res = await create(ctx, { number: randomShortCode(), kind: 'short_code', shared: true });
    expect(res.status).toBe(201);
    expect(res.body.shared).toBe(true);
  });

  it('needs a known kind', async () => {
    expectRefused(await create(h.context(), { number: randomLongCode(), kind: 'toll_free' }), 400, 'kind');
    expectRefused(await create(h.context(), { number: randomLongCode() }), 400, 'kind');
  });

  it('answers 409 for a number that exists, in any writing', async () => {
    const ctx = h.context();
    const number = randomLongCode();
    expect((await create(ctx, { number, kind: 'long_code' })).status).toBe(201);
    expectRefused(await create(ctx, { number, kind: 'long_code' }), 409, 'number');
    expectRefused(await create(ctx, { number: `00${number.slice(1)}`, kind: 'long_code' }), 409, 'number');
  });
});

describe('assigning numbers', () => {
  const assign = (ctx: Ctx, number: string, sid: unknown) => ctx.admin('POST', `/numbers/${encodeURIComponent(number)}/accounts`, { sid });

  it('refuses to give a dedicated number to a second account', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const b = await ctx.account();
    expectRefused(await assign(ctx, a.number, b.sid), 409, 'sid');
    // b gained nothing
    expect((await b.call('GET', '/numbers')).body.data.map((n: { number: string }) => n.number)).toEqual([b.number]);
    // assigning again to the owner is harmless
    expect((await assign(ctx, a.number, a.sid)).status).toBe(201);
  });

  it('gives a shared short code to several accounts', async () => {
    const ctx = h.context();
    const code = randomShortCode();
    const a = await ctx.account({ number: code, kind: 'short_code', shared: true });
    const b = await ctx.account({ number: code, kind: 'short_code', shared: true });
    for (const acct of [a, b]) {
      expect((await acct.call('GET', '/numbers')).body.data).toEqual([expect.objectContaining({ number: code, shared: true })]);
    }
  });

  it('refuses an unknown account and an unknown number', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const number = randomLongCode();
    expect((await ctx.admin('POST', '/numbers', { number, kind: 'long_code' })).status).toBe(201);
    expectRefused(await assign(ctx, number, 'HXUS000000000000'), 400, 'sid');
    expectRefused(await assign(ctx, number, ''), 400, 'sid');
    expectRefused(await ctx.admin('POST', `/numbers/${encodeURIComponent(number)}/accounts`, {}), 400, 'sid');
    const unknown = await assign(ctx, randomLongCode(), a.sid);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});

describe('sender IDs', () => {
  it('takes 3 to 15 letters or digits, once', async () => {
    const a = await h.context().account();
    // Its own: a sender ID is one account's, and other tests here register KLRHXA.
    const sender = `KLR${randomId('').slice(1, 9).toUpperCase()}`;
    const res = await a.call('POST', '/sender-ids', { sender_id: sender });
    expect(res.status).toBe(201);
    expect(res.body.sender_id).toBe(sender);
    expectRefused(await a.call('POST', '/sender-ids', { sender_id: sender }), 409, 'sender_id');
    expectRefused(await a.call('POST', '/sender-ids', { sender_id: 'AB' }), 400, 'sender_id');
    expectRefused(await a.call('POST', '/sender-ids', { sender_id: 'KLR-HXA' }), 400, 'sender_id');
    expectRefused(await a.call('POST', '/sender-ids', { sender_id: 'A'.repeat(16) }), 400, 'sender_id');
    expectRefused(await a.call('POST', '/sender-ids', {}), 400, 'sender_id');
    expect((await a.call('GET', '/sender-ids')).body.data.map((s: { sender_id: string }) => s.sender_id)).toEqual([sender]);
  });
});

describe('receive configurations: keywords, aliases and templates', () => {
  it('refuses a keyword longer than 30 characters and an empty one', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'K'.repeat(31), trigger: hook }), 400, 'keyword');
    expectRefused(await post(a, { keyword: '', trigger: hook }), 400, 'keyword');
    expectRefused(await post(a, { keyword: '   ', trigger: hook }), 400, 'keyword');
    expectRefused(await post(a, { trigger: hook }), 400, 'keyword');
    expectRefused(await post(a, { keyword: 42, trigger: hook }), 400, 'keyword');
    expect((await post(a, { keyword: 'K'.repeat(30), trigger: hook })).status).toBe(201);
  });

  it('names the bad or repeated alias by its index', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'OFFER', aliases: ['DEAL', ''], trigger: hook }), 400, 'aliases.1');
    expectRefused(await post(a, { keyword: 'OFFER', aliases: ['A'.repeat(31)], trigger: hook }), 400, 'aliases.0');
    expectRefused(await post(a, { keyword: 'OFFER', aliases: ['deal', ' DEAL '], trigger: hook }), 400, 'aliases.1');
    expectRefused(await post(a, { keyword: 'OFFER', aliases: ['Offer'], trigger: hook }), 400, 'aliases.0');
    expectRefused(await post(a, { keyword: 'OFFER', aliases: 'DEAL', trigger: hook }), 400, 'aliases');
  });

  it('saves normalised keywords and aliases', async () => {
    const a = await h.context().account();
    const res = await post(a, { keyword: ' get   offer ', aliases: ['deal'], template: 'GET OFFER <code>', trigger: hook });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ keyword: 'GET OFFER', aliases: ['DEAL'], template: 'GET OFFER <code>', active: true, default: false });
  });

  it('refuses a template that does not start with the keyword or has a bad placeholder', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'JOIN', template: 'SIGNUP <name>', trigger: hook }), 400, 'template');
    expectRefused(await post(a, { keyword: 'JOIN', template: '<name> JOIN', trigger: hook }), 400, 'template');
    expectRefused(await post(a, { keyword: 'JOIN', template: 'JOIN name', trigger: hook }), 400, 'template');
    expectRefused(await post(a, { keyword: 'JOIN', template: 'JOIN <first name>', trigger: hook }), 400, 'template');
    expectRefused(await post(a, { keyword: 'JOIN', template: 'JOIN <source>', trigger: hook }), 400, 'template');
    expectRefused(await post(a, { keyword: 'JOIN', template: 'JOIN <a> <a>', trigger: hook }), 400, 'template');
  });

  it('refuses an inline trigger that could never be sent, naming the field', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'A', trigger: { url: 'https://user:pass@example.com/mo' } }), 400, 'trigger.url');
    expectRefused(await post(a, { keyword: 'A', trigger: { url: 'https://example.com/mo', content_type: 'text/plain\r\nX-Injected: 1' } }), 400, 'trigger.content_type');
    expectRefused(await post(a, { keyword: 'A', trigger: { url: 'https://example.com/mo', content_type: 'application/json\r\n;x' } }), 400, 'trigger.content_type');
    expect((await post(a, { keyword: 'A', trigger: { url: 'https://example.com/mo', content_type: 'application/x-www-form-urlencoded' } })).status).toBe(201);
  });

  it('refuses a loopback trigger URL by default in any process but npm start\'s local stack', async () => {
    // WEBHOOK_ALLOW_PRIVATE_NETWORKS unset, and no TEMPORAL_ADDRESS either, as `npm run api` runs.
    const ctx = h.context({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: '' });
    expect(ctx.config.webhookAllowPrivateNetworks).toBe(false);
    const a = await ctx.account();
    expectRefused(await post(a, { keyword: 'LOOP', trigger: { url: 'http://127.0.0.1:4000/mo' } }), 400, 'trigger.url');
  });

  it('refuses a private or local trigger URL when private networks are not allowed, on create and on update', async () => {
    const a = await h.context({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' }).account();
    for (const url of ['http://127.0.0.1:4000/mo', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.5/', 'http://[fd00::1]/', 'http://localhost:4000/mo', 'http://[::ffff:10.0.0.1]/']) {
      const res = await post(a, { keyword: 'LOCAL', trigger: { url } });
      expectRefused(res, 400, 'trigger.url');
      expect(res.body.error.message).toMatch(/^trigger\.url must not point to a private or local network: .+ is an? .*address$/);
    }
    const saved = await post(a, { keyword: 'LOCAL', trigger: { url: 'https://hooks.example.com/mo' } });
    expect(saved.status).toBe(201);
    const put = await a.call('PUT', `/receive-configs/${saved.body.id}`, { number: a.number, keyword: 'LOCAL', trigger: { url: 'http://192.168.0.1/mo' } });
    expectRefused(put, 400, 'trigger.url');
    expect((await a.call('GET', `/receive-configs/${saved.body.id}`)).body.trigger.url).toBe('https://hooks.example.com/mo');
    // allowed (the tests' default, as on the local all-in-one stack)
    expect((await post(await h.context().account(), { keyword: 'LOCAL', trigger: { url: 'http://127.0.0.1:4000/mo' } })).status).toBe(201);
  });

  it('refuses unknown fields, at the top and inside actions', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'A', trigger: hook, colour: 'red' }), 400, 'colour');
    expectRefused(await post(a, { keyword: 'A', auto_reply: { sender: 'KLRHXA', message: 'hi', delay: 5 } }), 400, 'auto_reply.delay');
    expectRefused(await post(a, { keyword: 'A', trigger: { ...hook, retries: 3 } }), 400, 'trigger.retries');
    expectRefused(await post(a, { keyword: 'A', auto_reply: { sender: 'KLRHXA', message: 'hi', schedule: { type: 'instant', at: '2030-01-01 00:00:00' } } }), 400, 'auto_reply.schedule.at');
  });
});

describe('receive configurations: the default configuration', () => {
  it('has no keyword', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { default: true, keyword: 'HI', trigger: hook }), 400, 'keyword');
    expectRefused(await post(a, { default: true, aliases: ['HI'], trigger: hook }), 400, 'aliases');
    expectRefused(await post(a, { default: true, template: 'HI <x>', trigger: hook }), 400, 'template');
    expectRefused(await post(a, { default: true, expires_at: '2030-01-01 00:00:00', trigger: hook }), 400, 'expires_at');
  });

  it('is one per number: a second one is a 409', async () => {
    const a = await h.context().account();
    const first = await post(a, { default: true, trigger: hook });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ default: true, keyword: null, aliases: [] });
    expectRefused(await post(a, { default: true, trigger: hook }), 409, 'default');
    // replacing the default itself is no clash
    expect((await a.call('PUT', `/receive-configs/${first.body.id}`, { number: a.number, default: true, subscribe: true })).status).toBe(200);
  });

  it('is not allowed on a shared short code', async () => {
    const a = await h.context().account({ number: randomShortCode(), kind: 'short_code', shared: true });
    expectRefused(await post(a, { default: true, trigger: hook }), 400, 'default');
  });
});

describe('receive configurations: keyword uniqueness', () => {
  it('answers 409 for a keyword an active configuration of the number holds, naming keyword or alias', async () => {
    const a = await h.context().account();
    await a.config({ keyword: 'OFFER', aliases: ['DEAL'], trigger: hook });
    expectRefused(await post(a, { keyword: 'offer', trigger: hook }), 409, 'keyword');
    expectRefused(await post(a, { keyword: ' Offer ', trigger: hook }), 409, 'keyword');
    expectRefused(await post(a, { keyword: 'DEAL', trigger: hook }), 409, 'keyword');
    expectRefused(await post(a, { keyword: 'NEW', aliases: ['SALE', 'offer'], trigger: hook }), 409, 'aliases.1');
    expectRefused(await post(a, { keyword: 'NEW', aliases: ['deal'], trigger: hook }), 409, 'aliases.0');
  });

  it('compares phrases after collapsing white space, and lets a longer phrase live beside a shorter one', async () => {
    const a = await h.context().account();
    await a.config({ keyword: 'GET OFFER', trigger: hook });
    expectRefused(await post(a, { keyword: 'get    offer', trigger: hook }), 409, 'keyword');
    expect((await post(a, { keyword: 'GET', trigger: hook })).status).toBe(201);
    expect((await post(a, { keyword: 'GET OFFER NOW', trigger: hook })).status).toBe(201);
  });

  it('allows the same keyword again once the other configuration has expired', async () => {
    const a = await h.context().account();
    const old = await a.config({ keyword: 'SALE', expires_at: '2020-01-01 00:00:00', trigger: hook });
    expect(old.active).toBe(false);
    const res = await post(a, { keyword: 'SALE', trigger: hook });
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(true);
    // and the expired one cannot come back to life while the new one holds the keyword
    expectRefused(await a.call('PUT', `/receive-configs/${old.id}`, { number: a.number, keyword: 'SALE', trigger: hook }), 409, 'keyword');
  });

  it('keeps keywords of different numbers apart', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const b = await ctx.account();
    await a.config({ keyword: 'OFFER', trigger: hook });
    expect((await post(b, { keyword: 'OFFER', trigger: hook })).status).toBe(201);
  });

  it('on a shared short code, refuses a keyword another account holds, even an expired one', async () => {
    const ctx = h.context();
    const code = randomShortCode();
    const a = await ctx.account({ number: code, kind: 'short_code', shared: true });
    const b = await ctx.account({ number: code, kind: 'short_code', shared: true });
    await a.config({ keyword: 'ACME', aliases: ['ACME DEALS'], trigger: hook });
    await a.config({ keyword: 'OLDACME', expires_at: '2020-01-01 00:00:00', trigger: hook });
    const taken = await post(b, { keyword: 'acme', trigger: hook });
    expectRefused(taken, 409, 'keyword');
    expect(taken.body.error.message).toMatch(/another account/);
    expect(taken.body.error.message).not.toContain(a.sid);
    expectRefused(await post(b, { keyword: 'B', aliases: ['acme deals'], trigger: hook }), 409, 'aliases.0');
    expectRefused(await post(b, { keyword: 'OLDACME', trigger: hook }), 409, 'keyword');
    expect((await post(b, { keyword: 'BETA', trigger: hook })).status).toBe(201);
  });

  it('on a shared short code, refuses a phrase that begins or extends another account\'s', async () => {
    const ctx = h.context();
    const code = randomShortCode();
    const a = await ctx.account({ number: code, kind: 'short_code', shared: true });
    const b = await ctx.account({ number: code, kind: 'short_code', shared: true });
    const acme = await a.config({ keyword: 'ACME', trigger: hook });
    await a.config({ keyword: 'SALE NOW', trigger: hook });
    // "ACME DEALS" would win A's customers' "ACME DEALS ..." messages by the longest-keyword rule.
    expectRefused(await post(b, { keyword: 'acme deals', trigger: hook }), 409, 'keyword');
    expectRefused(await post(b, { keyword: 'SALE', trigger: hook }), 409, 'keyword');
    expectRefused(await post(b, { keyword: 'BEE', aliases: ['sale now please'], trigger: hook }), 409, 'aliases.0');
    // Same first word, no prefix relation: both can live on the code.
    expect((await post(b, { keyword: 'SALE LATER', trigger: hook })).status).toBe(201);
    // The owner itself may extend its own keyword.
    expect((await post(a, { keyword: 'ACME DEALS', trigger: hook })).status).toBe(201);
    const msg = await ctx.ingest({ source: '+919812345678', recipient: code, message: 'acme deals today' });
    expect(msg.body.config_id).not.toBe(acme.id);
    expect((await a.call('GET', `/logs/${msg.body.id}`)).status).toBe(200);
  });
});

describe('receive configurations: expiry and schedule', () => {
  it('saves a past expiry with 201 and active false', async () => {
    const a = await h.context().account({ timezone: 'Asia/Kolkata' });
    const res = await post(a, { keyword: 'GONE', expires_at: '2021-03-04 05:06:07', expiry_message: 'Sorry, it ended', trigger: hook });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ keyword: 'GONE', expires_at: '2021-03-04 05:06:07', expiry_message: 'Sorry, it ended', active: false });
    expect((await a.call('GET', `/receive-configs/${res.body.id}`)).body.active).toBe(false);
  });

  it('refuses an expiry that is not a real date-time or not in the format', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'X', expires_at: '2026-02-30 10:00:00', trigger: hook }), 400, 'expires_at');
    expectRefused(await post(a, { keyword: 'X', expires_at: '2026-12-31 25:00:00', trigger: hook }), 400, 'expires_at');
    expectRefused(await post(a, { keyword: 'X', expires_at: '2026-12-31T23:59:59Z', trigger: hook }), 400, 'expires_at');
    expectRefused(await post(a, { keyword: 'X', expires_at: '31/12/2026', trigger: hook }), 400, 'expires_at');
  });

  it('needs expires_at for an expiry message', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'X', expiry_message: 'ended', trigger: hook }), 400, 'expiry_message');
  });

  it('refuses a scheduled reply in the past, in the account time zone', async () => {
    const a = await h.context().account({ timezone: 'America/New_York', senders: ['KLRHXA'] });
    const reply = (at: string) => ({ sender: 'KLRHXA', message: 'hi', schedule: { type: 'scheduled', at } });
    expectRefused(await post(a, { keyword: 'X', auto_reply: reply('2020-01-01 00:00:00') }), 400, 'auto_reply.schedule.at');
    expectRefused(await post(a, { keyword: 'X', auto_reply: reply('2030-02-30 00:00:00') }), 400, 'auto_reply.schedule.at');
    expectRefused(await post(a, { keyword: 'X', auto_reply: { sender: 'KLRHXA', message: 'hi', schedule: { type: 'scheduled' } } }), 400, 'auto_reply.schedule.at');
    expectRefused(await post(a, { keyword: 'X', auto_reply: { sender: 'KLRHXA', message: 'hi', schedule: { type: 'later' } } }), 400, 'auto_reply.schedule.type');
    const ok = await post(a, { keyword: 'X', auto_reply: reply('2030-01-01 09:00:00') });
    expect(ok.status).toBe(201);
    expect(ok.body.auto_reply.schedule).toEqual({ type: 'scheduled', at: '2030-01-01 09:00:00' });
  });
});

describe('receive configurations: India, sender IDs and numbers', () => {
  const dlt = { route: 'TXN', template_id: '1107161234567890123' };

  it('needs route and template_id on every SMS of an Indian account', async () => {
    const a = await h.context().account({ country: 'IN', senders: ['KLRHXA'] });
    const reply = { sender: 'KLRHXA', message: 'hi' };
    const sms = { to: '+919812345678', sender: 'KLRHXA' };
    expectRefused(await post(a, { keyword: 'X', auto_reply: reply }), 400, 'auto_reply.route');
    expectRefused(await post(a, { keyword: 'X', auto_reply: { ...reply, route: 'TXN' } }), 400, 'auto_reply.template_id');
    expectRefused(await post(a, { keyword: 'X', auto_reply: { ...reply, route: 'PROMO', template_id: '1' } }), 400, 'auto_reply.route');
    expectRefused(await post(a, { keyword: 'X', auto_reply: { ...reply, route: 'TXN', template_id: 'T-1' } }), 400, 'auto_reply.template_id');
    expectRefused(await post(a, { keyword: 'X', forward: { sms } }), 400, 'forward.sms.route');
    expectRefused(await post(a, { keyword: 'X', forward: { sms: { ...sms, route: 'MKT' } } }), 400, 'forward.sms.template_id');
    expect((await post(a, { keyword: 'X', auto_reply: { ...reply, ...dlt }, forward: { sms: { ...sms, ...dlt } } })).status).toBe(201);
  });

  it('lets other countries omit them', async () => {
    const a = await h.context().account({ country: 'US', senders: ['KLRHXA'] });
    expect((await post(a, { keyword: 'X', auto_reply: { sender: 'KLRHXA', message: 'hi' } })).status).toBe(201);
  });

  it('refuses a sender ID the account has not registered', async () => {
    const ctx = h.context();
    const a = await ctx.account({ senders: ['KLRHXA'] });
    await ctx.account({ senders: ['OTHERS'] });
    expectRefused(await post(a, { keyword: 'X', auto_reply: { sender: 'NOPE', message: 'hi' } }), 400, 'auto_reply.sender');
    expectRefused(await post(a, { keyword: 'X', auto_reply: { sender: 'OTHERS', message: 'hi' } }), 400, 'auto_reply.sender');
    expectRefused(await post(a, { keyword: 'X', forward: { sms: { to: '+919812345678', sender: 'NOPE' } } }), 400, 'forward.sms.sender');
    expectRefused(await post(a, { keyword: 'X', unsubscribe: { scope: 'configured', senders: ['KLRHXA', 'NOPE'] } }), 400, 'unsubscribe.senders.1');
  });

  it('refuses a number that is not the account’s', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const b = await ctx.account();
    const free = randomLongCode();
    expect((await ctx.admin('POST', '/numbers', { number: free, kind: 'long_code' })).status).toBe(201);
    expectRefused(await a.call('POST', '/receive-configs', { number: b.number, keyword: 'X', trigger: hook }), 400, 'number');
    expectRefused(await a.call('POST', '/receive-configs', { number: free, keyword: 'X', trigger: hook }), 400, 'number');
    expectRefused(await a.call('POST', '/receive-configs', { number: randomLongCode(), keyword: 'X', trigger: hook }), 400, 'number');
    expectRefused(await a.call('POST', '/receive-configs', { keyword: 'X', trigger: hook }), 400, 'number');
  });

  it('takes the number in any writing', async () => {
    const a = await h.context().account();
    const res = await a.call('POST', '/receive-configs', { number: `00${a.number.slice(1)}`, keyword: 'X', trigger: hook });
    expect(res.status).toBe(201);
    expect(res.body.number).toBe(a.number);
  });

  it('refuses a callback profile that is not the account’s', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'X', trigger: { callback_profile_id: '00000000-0000-4000-8000-000000000000' } }), 400, 'trigger.callback_profile_id');
  });
});

describe('receive configurations: actions', () => {
  it('needs at least one action', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'X' }), 400, 'actions');
    expectRefused(await post(a, { keyword: 'X', subscribe: false, auto_reply: null }), 400, 'actions');
  });

  it('needs a trigger url, unless a callback profile is named', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'X', trigger: {} }), 400, 'trigger.url');
    expectRefused(await post(a, { keyword: 'X', trigger: { method: 'POST', body: '{}' } }), 400, 'trigger.url');
  });

  it('refuses a body with a GET trigger', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'X', trigger: { url: 'https://example.com/mo', method: 'GET', body: '{"a":1}' } }), 400, 'trigger.body');
  });

  it('refuses a trigger url that is not http or https', async () => {
    const a = await h.context().account();
    for (const url of ['example.com/mo', 'ftp://example.com/mo', 'javascript:alert(1)', '']) {
      expectRefused(await post(a, { keyword: 'X', trigger: { url } }), 400, 'trigger.url');
    }
    expectRefused(await post(a, { keyword: 'X', trigger: { url: 'https://example.com', method: 'PUT' } }), 400, 'trigger.method');
    expectRefused(await post(a, { keyword: 'X', trigger: { url: 'https://example.com', callback_profile_id: 'p' } }), 400, 'trigger.url');
  });

  it('keeps the unsubscribe scope rules', async () => {
    const a = await h.context().account({ senders: ['KLRHXA'], standardKeywords: false });
    expectRefused(await post(a, { keyword: 'X', unsubscribe: { scope: 'configured' } }), 400, 'unsubscribe.senders');
    expectRefused(await post(a, { keyword: 'X', unsubscribe: { scope: 'configured', senders: [] } }), 400, 'unsubscribe.senders');
    expectRefused(await post(a, { keyword: 'X', unsubscribe: { scope: 'all', senders: ['KLRHXA'] } }), 400, 'unsubscribe.senders');
    expectRefused(await post(a, { keyword: 'X', unsubscribe: { scope: 'everything' } }), 400, 'unsubscribe.scope');
    expectRefused(await post(a, { keyword: 'X', unsubscribe: {} }), 400, 'unsubscribe.scope');
    expectRefused(await post(a, { keyword: 'X', subscribe: true, unsubscribe: { scope: 'all' } }), 400, 'unsubscribe');
    expect((await post(a, { keyword: 'STOP', unsubscribe: { scope: 'configured', senders: ['KLRHXA'] } })).status).toBe(201);
    expect((await post(a, { keyword: 'STOPALL', unsubscribe: { scope: 'all' } })).status).toBe(201);
  });

  it('needs sms or email in a forward, with valid addresses', async () => {
    const a = await h.context().account({ senders: ['KLRHXA'] });
    expectRefused(await post(a, { keyword: 'X', forward: {} }), 400, 'forward');
    const bad = await post(a, { keyword: 'X', forward: { email: { to: ['not-an-address'] } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toMatch(/^forward\.email\.to/);
    expectRefused(await post(a, { keyword: 'X', forward: { sms: { to: 'call me', sender: 'KLRHXA' } } }), 400, 'forward.sms.to');
  });
});

describe('receive configurations: PUT and nothing half-saved', () => {
  it('validates a PUT like a POST and answers 404 for an unknown id', async () => {
    const a = await h.context().account();
    const cfg = await a.config({ keyword: 'X', trigger: hook });
    expectRefused(await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'K'.repeat(31), trigger: hook }), 400, 'keyword');
    expectRefused(await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'X' }), 400, 'actions');
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await a.call('PUT', `/receive-configs/${id}`, { number: a.number, keyword: 'X', trigger: hook });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });

  it('a refused PUT leaves the configuration and its keywords as they were: the old keywords still match', async () => {
    const a = await h.context().account({ senders: ['KLRHXA'] });
    const cfg = await a.config({ keyword: 'OFFER', aliases: ['DEAL'], template: 'OFFER <code>', trigger: hook });
    await a.config({ keyword: 'SALE', trigger: hook });
    const before = (await a.call('GET', `/receive-configs/${cfg.id}`)).body;
    const keywordsBefore = await h.sql`SELECT phrase FROM config_keywords WHERE config_id = ${cfg.id} ORDER BY phrase`;

    // an alias that clashes, found only once the database is asked
    expectRefused(await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'PROMO', aliases: ['sale'], trigger: hook }), 409, 'aliases.0');
    // a sender ID the account lacks, checked after the keywords passed
    expectRefused(await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'PROMO', auto_reply: { sender: 'NOPE', message: 'hi' } }), 400, 'auto_reply.sender');
    // a number of another account
    const other = await a.ctx.account();
    expectRefused(await a.call('PUT', `/receive-configs/${cfg.id}`, { number: other.number, keyword: 'PROMO', trigger: hook }), 400, 'number');

    expect((await a.call('GET', `/receive-configs/${cfg.id}`)).body).toEqual(before);
    expect(await h.sql`SELECT phrase FROM config_keywords WHERE config_id = ${cfg.id} ORDER BY phrase`).toEqual(keywordsBefore);
    // PROMO was never taken
    expect((await post(a, { keyword: 'PROMO', trigger: hook })).status).toBe(201);

    const [byKeyword, byAlias, byNew] = await Promise.all([a.send('offer 123'), a.send('Deal 456'), a.send('sale now')]);
    expect(byKeyword.body).toMatchObject({ outcome: 'keyword', config_id: cfg.id });
    expect(byAlias.body).toMatchObject({ outcome: 'keyword', config_id: cfg.id });
    expect(byNew.body.outcome).toBe('keyword');
    expect(byNew.body.config_id).not.toBe(cfg.id);
  });

  it('a refused POST stores neither the configuration nor its keywords', async () => {
    const a = await h.context().account();
    expectRefused(await post(a, { keyword: 'FRESH', aliases: ['NEW'], auto_reply: { sender: 'NOPE', message: 'hi' } }), 400, 'auto_reply.sender');
    expect((await a.call('GET', '/receive-configs')).body.data).toEqual([]);
    expect(await h.sql`SELECT 1 FROM config_keywords WHERE number = ${a.number}`).toHaveLength(0);
    expect((await post(a, { keyword: 'FRESH', aliases: ['NEW'], trigger: hook })).status).toBe(201);
  });

  it('a successful PUT replaces the keyword index', async () => {
    const a = await h.context().account();
    const cfg = await a.config({ keyword: 'OLD', aliases: ['PAST'], trigger: hook });
    const res = await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'NEW', trigger: hook });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: cfg.id, keyword: 'NEW', aliases: [] });
    expect((await a.call('GET', '/receive-configs')).body.data).toHaveLength(1);
    // OLD and PAST are free again
    expect((await post(a, { keyword: 'OLD', aliases: ['PAST'], trigger: hook })).status).toBe(201);
    const miss = await a.send('old stuff');
    expect(miss.body.config_id).not.toBe(cfg.id);
  });
});

describe('ingest', () => {
  const ingest = (ctx: Ctx, body: unknown) => ctx.request('POST', '/v1/inbound', body, { authorization: `Bearer ${INGEST_TOKEN}` });
  const mo = { source: '+919812345678', recipient: '+919876543210', message: 'hi' };

  it('needs source, recipient and message', async () => {
    const ctx = h.context();
    expectRefused(await ingest(ctx, { recipient: mo.recipient, message: 'hi' }), 400, 'source');
    expectRefused(await ingest(ctx, { source: mo.source, message: 'hi' }), 400, 'recipient');
    expectRefused(await ingest(ctx, { source: mo.source, recipient: mo.recipient }), 400, 'message');
    expectRefused(await ingest(ctx, { ...mo, message: 7 }), 400, 'message');
    expectRefused(await ingest(ctx, { ...mo, source: '' }), 400, 'source');
  });

  it('stores an MO whatever its metadata, noting what it could not take as it came (SPEC §5)', async () => {
    const a = await h.context().account();
    const cases: { body: Record<string, unknown>; received_at: string | null; notes: string[]; id?: RegExp }[] = [
      { body: { received_at: '2026-04-17 13:05:20' }, received_at: '2026-04-17T13:05:20.000Z', notes: [] },
      { body: { received_at: 'yesterday' }, received_at: null, notes: ['received_at: "yesterday" is not a date-time; the arrival time is used'] },
      { body: { id: `has space ${randomId()}` }, received_at: null, notes: [] },
      { body: { id: `slash/${randomId()}` }, received_at: null, notes: [] },
      { body: { id: 'x'.repeat(300) + randomId() }, received_at: null, notes: ['id: over 256 characters; kept as its SHA-256'], id: /^sha256-[0-9a-f]{64}$/ },
      { body: { operator: 'o'.repeat(150) }, received_at: null, notes: ['operator: cut to 100 of its 150 characters'] },
    ];
    for (const c of cases) {
      const res = await a.send('nothing configured', c.body);
      expect(res.status).toBe(202);
      if (c.id) expect(res.body.id).toMatch(c.id);
      else if (c.body.id) expect(res.body.id).toBe(c.body.id);
      const log = await a.call('GET', `/logs/${encodeURIComponent(res.body.id)}`);
      expect(log.status).toBe(200);
      expect(log.body.notes).toEqual(c.notes);
      if (c.received_at) expect(new Date(log.body.received_at).toISOString()).toBe(c.received_at);
    }
  });

  it('reads a GET\'s "+05:30" that arrived as " 05:30"', async () => {
    const a = await h.context().account();
    const id = randomId('get');
    const res = await a.ctx.request('GET', `/v1/inbound?token=${INGEST_TOKEN}&id=${id}&source=%2B919812345678&recipient=${encodeURIComponent(a.number)}&message=hi&received_at=2026-04-17T18:35:20+05:30`);
    expect(res.status).toBe(202);
    const log = await a.call('GET', `/logs/${id}`);
    expect(new Date(log.body.received_at).toISOString()).toBe('2026-04-17T13:05:20.000Z');
    expect(log.body.notes).toEqual([]);
  });

  it('refuses a body that is not a JSON object', async () => {
    expectRefused(await ingest(h.context(), 'source=1'), 400, 'body');
  });

  it('stores a valid MO and refuses nothing more', async () => {
    const a = await h.context().account();
    const id = randomId('mo');
    const res = await a.send('nothing configured', { id, received_at: '2026-04-17T18:35:20+05:30', operator: 'JIO' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id, outcome: 'no_match', config_id: null, workflow_id: null });
  });

  it('validates the GET form the same way', async () => {
    const ctx = h.context();
    const res = await ctx.request('GET', `/v1/inbound?token=${INGEST_TOKEN}&source=%2B919812345678&recipient=%2B919876543210`);
    expectRefused(res, 400, 'message');
  });
});

describe('authentication', () => {
  it('admin routes need the admin bearer token', async () => {
    const ctx = h.context();
    const body = { name: 'Acme', country: 'US' };
    expectUnauthorized(await ctx.request('POST', '/v1/admin/accounts', body));
    expectUnauthorized(await ctx.request('POST', '/v1/admin/accounts', body, { authorization: 'Bearer wrong' }));
    expectUnauthorized(await ctx.request('POST', '/v1/admin/accounts', body, { authorization: ADMIN_TOKEN }));
    expectUnauthorized(await ctx.request('POST', '/v1/admin/accounts', body, { authorization: `Bearer ${INGEST_TOKEN}` }));
    expectUnauthorized(await ctx.request('POST', '/v1/admin/numbers', { number: randomLongCode(), kind: 'long_code' }, { authorization: 'Bearer wrong' }));
  });

  it('account routes need that account’s api-key', async () => {
    const a = await h.context().account();
    const ctx = a.ctx;
    expectUnauthorized(await ctx.request('GET', `/v1/${a.sid}/numbers`));
    expectUnauthorized(await ctx.request('GET', `/v1/${a.sid}/numbers`, undefined, { 'api-key': 'wrong' }));
    expectUnauthorized(await ctx.request('GET', `/v1/${a.sid}/receive-configs`, undefined, { 'api-key': `${a.apiKey}x` }));
    expectUnauthorized(await ctx.request('GET', `/v1/${a.sid}/numbers`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` }));
    expectUnauthorized(await ctx.request('GET', `/v1/HXUS000000000000/numbers`, undefined, { 'api-key': a.apiKey }));
    expect((await a.call('GET', '/numbers')).status).toBe(200);
  });

  it('ingest needs the ingest bearer token', async () => {
    const ctx = h.context();
    const mo = { source: '+919812345678', recipient: randomLongCode(), message: 'hi' };
    expectUnauthorized(await ctx.request('POST', '/v1/inbound', mo));
    expectUnauthorized(await ctx.request('POST', '/v1/inbound', mo, { authorization: 'Bearer wrong' }));
    expectUnauthorized(await ctx.request('POST', '/v1/inbound', mo, { authorization: `Bearer ${ADMIN_TOKEN}` }));
    // nothing was stored by a refused request
    expect(await h.sql`SELECT 1 FROM inbound_messages WHERE recipient = ${mo.recipient}`).toHaveLength(0);
  });

  it('GET /v1/inbound takes the token as ?token=', async () => {
    const ctx = h.context();
    const recipient = randomLongCode();
    const q = (token: string) => `/v1/inbound?token=${encodeURIComponent(token)}&source=%2B919812345678&recipient=${encodeURIComponent(recipient)}&message=hi`;
    expectUnauthorized(await ctx.request('GET', q('wrong')));
    expectUnauthorized(await ctx.request('GET', q(ADMIN_TOKEN)));
    expectUnauthorized(await ctx.request('GET', `/v1/inbound?source=%2B919812345678&recipient=${encodeURIComponent(recipient)}&message=hi`));
    const ok = await ctx.request('GET', q(INGEST_TOKEN));
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ outcome: 'unknown_number', config_id: null, workflow_id: null });
    const header = await ctx.request('GET', `/v1/inbound?source=%2B919812345678&recipient=${encodeURIComponent(recipient)}&message=hi`, undefined, { authorization: `Bearer ${INGEST_TOKEN}` });
    expect(header.status).toBe(202);
  });
});

describe('input the database cannot hold, and credentials in URLs', () => {
  it('answers a NUL character with a 400 naming the field, for every JSON body and query', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const mo = await ctx.ingest({ source: '+919812345678', recipient: a.number, message: 'hi\u0000there' });
    expectRefused(mo, 400, 'message');
    const get = await ctx.request('GET', `/v1/inbound?source=%2B919812345678&recipient=${encodeURIComponent(a.number)}&message=a%00b&token=${INGEST_TOKEN}`);
    expectRefused(get, 400, 'message');
    expectRefused(await post(a, { keyword: 'NUL', aliases: ['OK', 'B\u0000D'], trigger: hook }), 400, 'aliases.1');
    const [row] = await h.sql`SELECT count(*)::int AS n FROM inbound_messages WHERE recipient = ${a.number}`;
    expect(row!.n).toBe(0);
  });

  it('takes the ingest token from the query on GET only', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const body = { source: '+919812345678', recipient: a.number, message: 'hi' };
    expectUnauthorized(await ctx.request('POST', `/v1/inbound?token=${INGEST_TOKEN}`, body));
    const get = await ctx.request('GET', `/v1/inbound?source=%2B919812345678&recipient=${encodeURIComponent(a.number)}&message=hi&token=${INGEST_TOKEN}`);
    expect(get.status).toBe(202);
  });

  it('answers a NUL character in a path parameter with a 400, not a 500', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    expectRefused(await a.call('GET', '/logs/ab%00cd'), 400, 'path');
    expectRefused(await ctx.admin('POST', `/numbers/%00/accounts`, { sid: a.sid }), 400, 'path');
  });

  it('answers a malformed number in the path with a 4xx, not a 500', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const res = await ctx.admin('POST', '/numbers/%25/accounts', { sid: a.sid });
    expect(res.status).toBe(404);
  });
});

describe('bounded input', () => {
  it('answers a body over 1 MiB with 413 in the error shape, on every route', async () => {
    const a = await h.context().account();
    const big = JSON.stringify({ source: '+919812345678', recipient: a.number, message: 'x'.repeat(2 * 1024 * 1024) });
    for (const [path, headers] of [
      ['/v1/inbound', { authorization: `Bearer ${INGEST_TOKEN}` }],
      [`/v1/${a.sid}/receive-configs`, { 'api-key': a.apiKey }],
      ['/v1/admin/accounts', { authorization: `Bearer ${ADMIN_TOKEN}` }],
    ] as const) {
      const res = await a.ctx.request('POST', path, big, headers);
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: { code: 'too_large', message: expect.stringMatching(/larger than 1048576 bytes/), field: 'body' } });
    }
    const [row] = await h.sql`SELECT count(*)::int AS n FROM inbound_messages WHERE recipient = ${a.number}`;
    expect(row!.n).toBe(0);
  });

  it('answers a deeply nested body with 400, not a stack overflow', async () => {
    const a = await h.context().account();
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const body = `{"number":"${a.number}","keyword":"DEEP","trigger":{"url":"https://example.com/x"},"aliases":${deep}}`;
    expectRefused(await a.call('POST', '/receive-configs', body), 400, 'body');
    const mo = `{"source":"+919812345678","recipient":"${a.number}","message":"hi","operator":${deep}}`;
    expectRefused(await a.ctx.request('POST', '/v1/inbound', mo, { authorization: `Bearer ${INGEST_TOKEN}` }), 400, 'body');
  });

  it('answers steering a run while Temporal cannot be reached with 503', async () => {
    const a = await h.context().account();
    const id = randomId('steer');
    // A message whose reply is waiting, as the log says; Temporal is not running in this file.
    await h.sql`INSERT INTO inbound_messages (id, sid, source, recipient, message, received_at, outcome, workflow_id, dispatch_state)
                VALUES (${id}, ${a.sid}, '+919812345678', ${a.number}, 'later', now(), 'keyword', ${'mo-' + id}, 'started')`;
    await h.sql`INSERT INTO message_actions (log_id, type, status) VALUES (${id}, 'auto_reply', 'scheduled')`;
    const res = await a.call('POST', `/logs/${id}/scheduled-reply`, { action: 'cancel' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('temporal_unavailable');
  });
});
