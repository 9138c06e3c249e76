import { describe, expect, it } from 'vitest';
import { DEFAULT_STANDARD_TEXTS } from '../../src/domain/standard-keywords.js';
import { randomId, type Account, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';

// SPEC §3.7 over the real parts: PostgreSQL, a Temporal dev server, a worker, and the `http`
// SMS provider posting to the suite's receiver.
const s = temporalSuite();

const CUSTOMER = '+919812345678';

/** A context whose SMS go through the `http` provider to the local receiver, at `path`. */
function httpSmsContext(path: string): Ctx {
  return s.h.context({ SMS_PROVIDER: 'http', SMS_HTTP_URL: s.hooks.url(path) });
}

/** The SMS the provider was asked to send to `path`, as {sender, to, body}. */
function smsTo(path: string): { sender: string; to: string; body: string }[] {
  return s.hooks.to(path).map((r) => {
    const { sender, to, body } = JSON.parse(r.body);
    return { sender, to, body };
  });
}

/** Ingests `text` from `source` and waits for its run to end; answers the ingest body and the run's state. */
async function run(ctx: Ctx, a: Account, text: string, source = CUSTOMER): Promise<{ mo: any; state: any }> {
  const id = randomId();
  const res = await a.send(text, { id, source });
  expect(res.status).toBe(202);
  const state = res.body.workflow_id ? await ctx.result(res.body.workflow_id) : null;
  return { mo: res.body, state };
}

describe('on a dedicated number (standard keywords on by default)', () => {
  it('opts out of all senders on stop, Stop and UNSUBSCRIBE, confirms from the number, and START lifts it', async () => {
    const ctx = httpSmsContext('/dedicated');
    const a = await ctx.account({ senders: ['ALPHA', 'BETA'] });
    const send = (sender: string) => a.call('POST', '/messages', { to: CUSTOMER, sender, body: `hello from ${sender}` });

    await ctx.withWorker(async () => {
      for (const word of ['stop', 'Stop', 'UNSUBSCRIBE']) {
        const stop = await run(ctx, a, word);
        expect(stop.mo).toEqual({ id: stop.mo.id, outcome: 'standard', config_id: null, workflow_id: `mo-${stop.mo.id}` });
        expect(stop.state).toMatchObject({ outcome: 'standard', actions: { auto_reply: 'succeeded', unsubscribe: 'succeeded' } });
        expect((await send('ALPHA')).status, word).toBe(403);
        expect((await send('BETA')).status, word).toBe(403);

        const log = (await a.call('GET', `/logs/${stop.mo.id}`)).body;
        expect(log).toMatchObject({ outcome: 'standard', keyword: word.toUpperCase(), config_id: null, run_status: 'completed' });
        expect(log.actions).toEqual([
          expect.objectContaining({ type: 'auto_reply', status: 'succeeded', outbox_id: `mo-${stop.mo.id}-auto_reply` }),
          expect.objectContaining({ type: 'unsubscribe', status: 'succeeded', senders: ['*'] }),
        ]);
        const outbox = (await a.call('GET', `/messages?log_id=${stop.mo.id}`)).body.data;
        expect(outbox).toEqual([expect.objectContaining({ purpose: 'auto_reply', sender: a.number, to: CUSTOMER, body: DEFAULT_STANDARD_TEXTS.opt_out, status: 'sent' })]);

        const start = await run(ctx, a, 'START');
        expect(start.mo.outcome).toBe('standard');
        expect(start.state.actions).toEqual({ auto_reply: 'succeeded', subscribe: 'succeeded' });
        expect((await send('ALPHA')).status, word).toBe(201);
        expect((await send('BETA')).status, word).toBe(201);
      }

      // A customer who has opted out already still gets the confirmation of another STOP.
      await run(ctx, a, 'stop');
      const again = await run(ctx, a, 'STOP');
      expect(again.state.actions).toEqual({ auto_reply: 'succeeded', unsubscribe: 'succeeded' });
    });

    // Every confirmation came from the number itself, in order.
    const confirmations = smsTo('/dedicated').filter((m) => m.sender === a.number);
    expect(confirmations).toEqual([
      ...Array.from({ length: 3 }, () => [
        { sender: a.number, to: CUSTOMER, body: DEFAULT_STANDARD_TEXTS.opt_out },
        { sender: a.number, to: CUSTOMER, body: DEFAULT_STANDARD_TEXTS.opt_in },
      ]).flat(),
      { sender: a.number, to: CUSTOMER, body: DEFAULT_STANDARD_TEXTS.opt_out },
      { sender: a.number, to: CUSTOMER, body: DEFAULT_STANDARD_TEXTS.opt_out },
    ]);
    const list = await a.call('GET', `/subscriptions?number=${encodeURIComponent(CUSTOMER)}`);
    expect(list.body.data).toEqual([expect.objectContaining({ sender_id: '*', status: 'unsubscribed', via_number: a.number })]);
    const logs = await a.call('GET', '/logs?outcome=standard');
    expect(logs.body.data).toHaveLength(8);
  });

  it("answers HELP and INFO with the account's help text, changing nothing; texts are the account's own", async () => {
    const ctx = httpSmsContext('/help');
    const a = await ctx.account({ senders: ['ALPHA'] });

    const initial = await a.call('GET', '/standard-keywords');
    expect(initial.status).toBe(200);
    expect(initial.body).toMatchObject({ help_text: DEFAULT_STANDARD_TEXTS.help, defaults: { help_text: DEFAULT_STANDARD_TEXTS.help } });
    expect(initial.body.keywords.opt_out).toContain('STOPALL');
    const set = await a.call('PATCH', '/standard-keywords', { help_text: ' Acme offers: reply STOP to stop. ', opt_out_text: 'Acme: you are out.' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ help_text: 'Acme offers: reply STOP to stop.', opt_out_text: 'Acme: you are out.', opt_in_text: DEFAULT_STANDARD_TEXTS.opt_in });

    await ctx.withWorker(async () => {
      const help = await run(ctx, a, 'help');
      expect(help.mo.outcome).toBe('standard');
      expect(help.state.actions).toEqual({ auto_reply: 'succeeded' });
      const info = await run(ctx, a, ' Info ');
      expect(info.state.actions).toEqual({ auto_reply: 'succeeded' });
      await run(ctx, a, 'QUIT');
      // The help text reaches a customer who has opted out too.
      const optedOut = await run(ctx, a, 'HELP');
      expect(optedOut.state.actions).toEqual({ auto_reply: 'succeeded' });
      // Back to the default.
      expect((await a.call('PATCH', '/standard-keywords', { help_text: null })).body.help_text).toBe(DEFAULT_STANDARD_TEXTS.help);
      await run(ctx, a, 'INFO');
    });
    expect(smsTo('/help').map((m) => m.body)).toEqual([
      'Acme offers: reply STOP to stop.', 'Acme offers: reply STOP to stop.', 'Acme: you are out.', 'Acme offers: reply STOP to stop.', DEFAULT_STANDARD_TEXTS.help,
    ]);
    expect((await a.call('GET', `/subscriptions?number=${encodeURIComponent(CUSTOMER)}`)).body.data).toEqual([
      expect.objectContaining({ sender_id: '*', status: 'unsubscribed' }),
    ]);
  });

  it('refuses a bad text, naming the field', async () => {
    const a = await httpSmsContext('/none').account();
    const refused = async (body: unknown, field: string) => {
      const res = await a.call('PATCH', '/standard-keywords', body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.field).toBe(field);
    };
    await refused({ help_text: 'x'.repeat(321) }, 'help_text');
    await refused({ opt_out_text: '   ' }, 'opt_out_text');
    await refused({ opt_in_text: 42 }, 'opt_in_text');
    await refused({ stop_text: 'x' }, 'stop_text');
    expect((await a.call('PATCH', '/standard-keywords', { help_text: 'x'.repeat(320) })).status).toBe(200);
  });

  it('leaves STOP PLEASE to normal matching', async () => {
    const ctx = httpSmsContext('/please');
    const a = await ctx.account({ senders: ['ALPHA'] });
    await a.config({ default: true, trigger: { url: s.hooks.url('/please-default') } });
    // A phrase that only begins with a standard word is the configuration's to take.
    await a.config({ keyword: 'STOP ALPHA', unsubscribe: { scope: 'configured', senders: ['ALPHA'] } });
    await ctx.withWorker(async () => {
      const please = await run(ctx, a, 'STOP PLEASE');
      expect(please.mo.outcome).toBe('default');
      expect(please.state.actions).toEqual({ trigger: 'succeeded' });
      const alpha = await run(ctx, a, 'stop alpha');
      expect(alpha.mo.outcome).toBe('keyword');
    });
    expect(s.hooks.to('/please-default')).toHaveLength(1);
    expect(s.hooks.to('/please')).toHaveLength(0); // no confirmation
    expect((await a.call('GET', `/subscriptions?number=${encodeURIComponent(CUSTOMER)}`)).body.data).toEqual([
      expect.objectContaining({ sender_id: 'ALPHA', status: 'unsubscribed' }),
    ]);
  });
});

describe('receive configurations and standard keywords', () => {
  it('refuses a standard word as keyword or alias with a 409 naming the field', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const post = (body: Record<string, unknown>) => a.call('POST', '/receive-configs', { number: a.number, trigger: { url: s.hooks.url('/x') }, ...body });
    const expect409 = (res: { status: number; body: any }, field: string, word: string) => {
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'reserved_keyword', field });
      expect(res.body.error.message).toContain(`"${word}"`);
    };
    expect409(await post({ keyword: 'STOP' }), 'keyword', 'STOP');
    expect409(await post({ keyword: ' help ' }), 'keyword', 'HELP');
    expect409(await post({ keyword: 'OFFER', aliases: ['DEAL', 'quit'] }), 'aliases.1', 'QUIT');
    const ok = await a.config({ keyword: 'OFFER', aliases: ['DEAL'], trigger: { url: s.hooks.url('/x') } });
    expect409(await a.call('PUT', `/receive-configs/${ok.id}`, { number: a.number, keyword: 'YES', trigger: { url: s.hooks.url('/x') } }), 'keyword', 'YES');
    expect((await a.call('GET', `/receive-configs/${ok.id}`)).body.keyword).toBe('OFFER');
  });

  it('lets a configuration take STOP on a number with standard keywords off, and an operator turn them on once it is gone', async () => {
    const ctx = httpSmsContext('/off');
    const a = await ctx.account({ senders: ['ALPHA'], standardKeywords: false });
    const numbers = await a.call('GET', '/numbers');
    expect(numbers.body.data).toEqual([expect.objectContaining({ number: a.number, standard_keywords: false })]);
    const cfg = await a.config({ keyword: 'STOP', unsubscribe: { scope: 'configured', senders: ['ALPHA'] } });
    const path = `/numbers/${encodeURIComponent(a.number)}`;

    await ctx.withWorker(async () => {
      const stop = await run(ctx, a, 'stop');
      expect(stop.mo).toMatchObject({ outcome: 'keyword', config_id: cfg.id });
      expect(stop.state.actions).toEqual({ unsubscribe: 'succeeded' });

      // Turning them on while a configuration holds a standard word is refused.
      const refused = await ctx.admin('PATCH', path, { standard_keywords: true });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'reserved_keyword', field: 'standard_keywords' });
      expect(refused.body.error.message).toContain(cfg.id);
      expect((await a.call('DELETE', `/receive-configs/${cfg.id}`)).status).toBe(204);
      const on = await ctx.admin('PATCH', path, { standard_keywords: true });
      expect(on.status).toBe(200);
      expect(on.body).toMatchObject({ number: a.number, standard_keywords: true });
      // The routing cache heard of it: the next STOP is a standard one.
      const standard = await run(ctx, a, 'stop');
      expect(standard.mo.outcome).toBe('standard');
      expect(standard.state.actions).toEqual({ auto_reply: 'succeeded', unsubscribe: 'succeeded' });

      expect((await ctx.admin('PATCH', path, { standard_keywords: false })).body.standard_keywords).toBe(false);
      expect((await run(ctx, a, 'start')).mo).toMatchObject({ outcome: 'no_match', workflow_id: null });
    });
    expect((await ctx.admin('PATCH', path, { standard_keywords: 'yes' })).body.error.field).toBe('standard_keywords');
    expect((await ctx.admin('PATCH', '/numbers/%2B19999999999', { standard_keywords: true })).status).toBe(404);
  });
});

describe('on a shared short code', () => {
  it("opts the customer out of (and back in to) every account on it, confirmed once with the default text", async () => {
    const ctx = httpSmsContext('/shared');
    const a = await ctx.account({ kind: 'short_code', shared: true, country: 'IN', senders: ['ALPHA'] });
    const b = await ctx.account({ kind: 'short_code', shared: true, number: a.number, country: 'IN', senders: ['BETA'] });
    // One tenant's own text does not speak for the short code.
    await a.call('PATCH', '/standard-keywords', { opt_out_text: "A's text" });
    const list = (x: Account, customer: string) =>
      x.call('GET', `/subscriptions?number=${encodeURIComponent(customer)}`).then((r) => r.body.data.map((d: any) => [d.sender_id, d.status, d.via_number]));

    let stopId = '';
    await ctx.withWorker(async () => {
      const stop = await run(ctx, a, 'STOP');
      stopId = stop.mo.id;
      expect(stop.mo).toMatchObject({ outcome: 'standard', config_id: null, workflow_id: `mo-${stopId}` });
      expect(stop.state.actions).toEqual({ auto_reply: 'succeeded', unsubscribe: 'succeeded' });
      for (const x of [a, b]) expect(await list(x, CUSTOMER)).toEqual([['*', 'unsubscribed', a.number]]);
      for (const x of [a, b]) {
        const history = (await x.call('GET', `/subscriptions/history?number=${encodeURIComponent(CUSTOMER)}`)).body.data;
        expect(history).toEqual([expect.objectContaining({ sender_id: '*', status: 'unsubscribed', log_id: stopId })]);
      }

      await run(ctx, b, 'start');
      for (const x of [a, b]) expect(await list(x, CUSTOMER)).toEqual([['*', 'subscribed', a.number]]);

      // A customer number in national form is read in the accounts' one country.
      await run(ctx, a, 'quit', '9812345671');
      for (const x of [a, b]) expect(await list(x, '+919812345671')).toEqual([['*', 'unsubscribed', a.number]]);
    });

    expect(smsTo('/shared')).toEqual([
      { sender: a.number, to: CUSTOMER, body: DEFAULT_STANDARD_TEXTS.opt_out },
      { sender: a.number, to: CUSTOMER, body: DEFAULT_STANDARD_TEXTS.opt_in },
      { sender: a.number, to: '+919812345671', body: DEFAULT_STANDARD_TEXTS.opt_out },
    ]);
    // The message and its confirmation are no one account's: in neither account's logs or outbox.
    const [row] = await s.h.sql`SELECT sid, outcome, keyword FROM inbound_messages WHERE id = ${stopId}`;
    expect(row).toEqual({ sid: null, outcome: 'standard', keyword: 'STOP' });
    const [sent] = await s.h.sql`SELECT sid, sender, status FROM outbox WHERE log_id = ${stopId}`;
    expect(sent).toEqual({ sid: null, sender: a.number, status: 'sent' });
    for (const x of [a, b]) {
      expect((await x.call('GET', `/logs/${stopId}`)).status).toBe(404);
      expect((await x.call('GET', `/messages?log_id=${stopId}`)).body.data).toEqual([]);
    }
  });

  it("reads a national customer number in each account's country when the accounts' countries differ", async () => {
    const ctx = httpSmsContext('/shared-countries');
    const a = await ctx.account({ kind: 'short_code', shared: true, country: 'IN', senders: ['ALPHA'] });
    const b = await ctx.account({ kind: 'short_code', shared: true, number: a.number, country: 'GB', senders: ['BETA'] });
    const list = (x: Account, customer: string) =>
      x.call('GET', `/subscriptions?number=${encodeURIComponent(customer)}`).then((r) => r.body.data.map((d: any) => [d.sender_id, d.status]));
    await ctx.withWorker(() => run(ctx, a, 'STOP', '07700900123'));
    expect(await list(a, '+917700900123')).toEqual([['*', 'unsubscribed']]);
    expect(await list(b, '+447700900123')).toEqual([['*', 'unsubscribed']]);
    // so the GB account's own send to the customer, by E.164 number, finds the opt-out
    const send = await b.call('POST', '/messages', { sender: 'BETA', to: '+447700900123', body: 'promo' });
    expect(send).toMatchObject({ status: 403, body: { error: { code: 'opted_out' } } });
  });

  it('refuses a standard word as a keyword on it', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ kind: 'short_code', shared: true });
    const res = await a.call('POST', '/receive-configs', { number: a.number, keyword: 'OPTOUT', trigger: { url: s.hooks.url('/x') } });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'reserved_keyword', field: 'keyword' });
  });
});
