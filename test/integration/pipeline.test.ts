import { describe, expect, it } from 'vitest';
import { randomId } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';
import { historyShape } from '../helpers/temporal.js';

const s = temporalSuite();

describe('an MO message travels to the webhook through a Temporal run', () => {
  it('POSTs the SPEC §4 default body, with a stable delivery id', async () => {
    const ctx = s.h.context();
    const a = await ctx.account({ timezone: 'Asia/Kolkata' });
    const cfg = await a.config({ keyword: 'join', template: 'JOIN <name> <city>', trigger: { url: s.hooks.url('/default-body') } });
    const id = randomId();
    const res = await a.send('Join  Priya New Delhi', { id, operator: 'JIO', circle: 'JIO DELHI', received_at: '2026-04-17T13:05:20Z' });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id, outcome: 'keyword', config_id: cfg.id, workflow_id: `mo-${id}` });

    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    const [req] = await s.hooks.waitFor('/default-body');
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['webhook-id']).toBe(`mo-${id}-trigger`);
    expect(JSON.parse(req!.body)).toEqual({
      source: '+919812345678',
      recipient: a.number,
      description: 'Message has been sent',
      status: 'SENT',
      status_trace: 'SENT',
      id,
      kid: cfg.id,
      message: 'Join  Priya New Delhi',
      keyword: 'JOIN',
      operator: 'JIO',
      circle: 'JIO DELHI',
      timestamp: '2026-04-17 18:35:20',
      'parts[1]': 'Join',
      'parts[2]': 'Priya',
      'parts[3]': 'New',
      'parts[4]': 'Delhi',
    });

    const log = await a.call('GET', `/logs/${id}`);
    expect(log.status).toBe(200);
    expect(log.body).toMatchObject({
      id, outcome: 'keyword', keyword: 'JOIN', config_id: cfg.id, workflow_id: `mo-${id}`, run_status: 'completed',
      temporal_ui_url: `http://localhost:8233/namespaces/default/workflows/mo-${id}`,
      actions: [{ type: 'trigger', status: 'succeeded', attempts: 1, last_error: null }],
    });
  });

  it('renders a custom POST body template with JSON-escaped values and template parts', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({
      keyword: 'JOIN',
      template: 'JOIN <name> <city>',
      trigger: { url: s.hooks.url('/custom-body'), method: 'POST', body: '{"who":"<name>","where":"<city>","text":"<message>","second":"<parts[2]>"}' },
    });
    const id = randomId();
    await a.send('join "Pri\\ya" Pune', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    const [req] = await s.hooks.waitFor('/custom-body');
    expect(JSON.parse(req!.body)).toEqual({ who: '"Pri\\ya"', where: 'Pune', text: 'join "Pri\\ya" Pune', second: '"Pri\\ya"' });
  });

  it('form-encodes the values of a form body, so a message cannot add fields', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({
      keyword: 'FORM',
      trigger: { url: s.hooks.url('/form-body'), body: 'from=<source>&text=<message>&admin=0', content_type: 'application/x-www-form-urlencoded' },
    });
    const id = randomId();
    await a.send('form hi&admin=1 +50%', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    const [req] = await s.hooks.waitFor('/form-body');
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect([...new URLSearchParams(req!.body)]).toEqual([['from', '+919812345678'], ['text', 'form hi&admin=1 +50%'], ['admin', '0']]);
  });

  it('calls a GET URL with the values URL-encoded', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'OFFER', trigger: { url: `${s.hooks.url('/get')}?from=<source>&text=<message>&kw=<keyword>&p2=<parts[2]>&unknown=<sender>`, method: 'GET' } });
    const id = randomId();
    await a.send('offer 50% & more', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    const [req] = await s.hooks.waitFor('/get');
    expect(req!.method).toBe('GET');
    expect(req!.body).toBe('');
    expect(req!.url).toContain('from=%2B919812345678');
    expect(req!.query.get('from')).toBe('+919812345678');
    expect(req!.query.get('text')).toBe('offer 50% & more');
    expect(req!.query.get('kw')).toBe('OFFER');
    expect(req!.query.get('p2')).toBe('50%');
    expect(req!.query.get('unknown')).toBe('');
  });

  it('matches case-insensitively, prefers the longest keyword, and falls back to the default', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const get = await a.config({ keyword: 'GET', trigger: { url: s.hooks.url('/get-short') } });
    const getOffer = await a.config({ keyword: 'get   offer', trigger: { url: s.hooks.url('/get-long') } });
    const dflt = await a.config({ default: true, trigger: { url: s.hooks.url('/fallback') } });

    const long = await a.send('Get Offer now');
    const short = await a.send('get me one');
    const other = await a.send('hello there');
    const prefixOnly = await a.send('GETTING started');
    expect(long.body).toMatchObject({ outcome: 'keyword', config_id: getOffer.id });
    expect(short.body).toMatchObject({ outcome: 'keyword', config_id: get.id });
    expect(other.body).toMatchObject({ outcome: 'default', config_id: dflt.id });
    expect(prefixOnly.body).toMatchObject({ outcome: 'default', config_id: dflt.id });

    await ctx.withWorker(async () => {
      for (const r of [long, short, other, prefixOnly]) await ctx.result(r.body.workflow_id);
    });
    // One customer's four messages were started one after another, in the order they came.
    const starts = await Promise.all([long, short, other, prefixOnly].map(async (r) => (await ctx.client.workflow.getHandle(r.body.workflow_id).describe()).startTime.getTime()));
    expect(starts).toEqual([...starts].sort((x, y) => x - y));
    expect(s.hooks.to('/get-long')).toHaveLength(1);
    expect(s.hooks.to('/get-short')).toHaveLength(1);
    expect(s.hooks.to('/fallback')).toHaveLength(2);
  });

  it('runs nothing for an expired keyword, and does not apply the default', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const expired = await a.config({ keyword: 'OLD', expires_at: '2020-01-01 00:00:00', trigger: { url: s.hooks.url('/expired') } });
    expect(expired.active).toBe(false);
    await a.config({ default: true, trigger: { url: s.hooks.url('/expired-default') } });
    const id = randomId();
    const res = await a.send('old offer', { id });
    expect(res.body).toMatchObject({ outcome: 'expired', config_id: expired.id });
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.outcome).toBe('expired');
    expect(state.actions).toEqual({});
    expect(s.hooks.to('/expired')).toHaveLength(0);
    expect(s.hooks.to('/expired-default')).toHaveLength(0);
  });

  it('re-checks expiry when the run starts: a keyword expired since ingest runs nothing', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const cfg = await a.config({ keyword: 'LATE', trigger: { url: s.hooks.url('/late') } });
    const id = randomId();
    const res = await a.send('late', { id, received_at: '2026-06-01T10:00:00Z' });
    expect(res.body.outcome).toBe('keyword');
    // The run has not started (no worker yet); the offer's end is moved before the message came.
    const put = await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'LATE', expires_at: '2026-06-01 09:00:00', trigger: { url: s.hooks.url('/late') } });
    expect(put.status).toBe(200);
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.outcome).toBe('expired');
    expect(s.hooks.to('/late')).toHaveLength(0);
    expect((await a.call('GET', `/logs/${id}`)).body.outcome).toBe('expired');
  });

  it('runs a repeated carrier id once and answers the repeat with the first result', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'ONCE', trigger: { url: s.hooks.url('/once') } });
    const id = randomId();
    const first = await a.send('once', { id });
    const again = await a.send('ONCE but different text', { id });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    await ctx.withWorker(async () => {
      await ctx.result(`mo-${id}`);
      const third = await a.send('once', { id });
      expect(third.body).toEqual(first.body);
      await new Promise((r) => setTimeout(r, 1500));
    });
    expect(s.hooks.to('/once')).toHaveLength(1);
    const [row] = await s.h.sql`SELECT count(*)::int AS count FROM inbound_messages WHERE id = ${id}`;
    expect(row!.count).toBe(1);
  });

  it('delivers to a 500, 500, 200 endpoint on the third attempt, recording each attempt', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    s.hooks.script('/flaky', [{ status: 500, body: 'boom 1' }, { status: 500, body: 'boom 2' }, { status: 200, body: 'fine' }]);
    await a.config({ keyword: 'FLAKY', trigger: { url: s.hooks.url('/flaky') } });
    const id = randomId();
    await a.send('flaky', { id });
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.actions.trigger).toBe('succeeded');
    const reqs = s.hooks.to('/flaky');
    expect(reqs).toHaveLength(3);
    expect(new Set(reqs.map((r) => r.headers['webhook-id']))).toEqual(new Set([`mo-${id}-trigger`]));
    // The backoff grows: the first wait is at least 1 s, the second at least 2 s (either may be
    // longer on a loaded machine, so they are not compared with each other).
    expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(950);
    expect(reqs[2]!.at - reqs[1]!.at).toBeGreaterThanOrEqual(1950);

    const log = await a.call('GET', `/logs/${id}`);
    expect(log.body.actions).toEqual([expect.objectContaining({ type: 'trigger', status: 'succeeded', attempts: 3, last_error: null })]);
    const attempts = await s.h.sql`SELECT attempt, status_code, response_head FROM delivery_attempts WHERE delivery_id = ${`mo-${id}-trigger`} ORDER BY created_at`;
    expect(attempts.map((r) => [r.attempt, r.status_code, r.response_head])).toEqual([[1, 500, 'boom 1'], [2, 500, 'boom 2'], [3, 200, 'fine']]);
    // The first attempt was local; after it failed, the regular activity took over, with the
    // configured retry period as its schedule-to-close timeout.
    const history = await ctx.client.workflow.getHandle(`mo-${id}`).fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!);
    expect(scheduled.map((a) => a.activityType!.name)).toEqual(['deliverWebhook']);
    expect(Number(scheduled[0]!.scheduleToCloseTimeout!.seconds)).toBe(ctx.config.webhook.retryHours * 3600);
  });

  it('runs a trigger-only keyword whose webhook answers at once in one workflow task', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'CHEAP', trigger: { url: s.hooks.url('/cheap') } });
    const id = randomId();
    await a.send('cheap', { id });
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.actions.trigger).toBe('succeeded');
    const shape = await historyShape(ctx.client, `mo-${id}`);
    expect(shape.workflowTasks).toBe(1);
    expect(shape.activities).toEqual([]);
    // startRun prepared the run, called the webhook and recorded the run as completed.
    expect(shape.localActivities).toBe(1);
    expect(shape.events).toBeLessThanOrEqual(8);
    expect((await a.call('GET', `/logs/${id}`)).body.run_status).toBe('completed');
    const [delivery] = await s.h.sql`SELECT status, attempts FROM deliveries WHERE id = ${`mo-${id}-trigger`}`;
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('does not retry a 400 and records the failure', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    s.hooks.script('/bad', [{ status: 400, body: 'no thanks' }]);
    await a.config({ keyword: 'BAD', trigger: { url: s.hooks.url('/bad') } });
    const id = randomId();
    await a.send('bad', { id });
    const state = await ctx.withWorker(async () => {
      const s = await ctx.result(`mo-${id}`);
      await new Promise((r) => setTimeout(r, 2500)); // a retry would have come by now
      return s;
    });
    expect(state.actions.trigger).toBe('failed');
    expect(s.hooks.to('/bad')).toHaveLength(1);
    const log = await a.call('GET', `/logs/${id}`);
    expect(log.body.actions).toEqual([expect.objectContaining({ type: 'trigger', status: 'failed', attempts: 1, last_error: 'HTTP 400' })]);
  });

  it('stores unknown numbers and unmatched messages without starting a run', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'ONLY', trigger: { url: s.hooks.url('/only') } });
    const unknown = await ctx.ingest({ source: '+919812345678', recipient: '+15550001111', message: 'hi' });
    expect(unknown.status).toBe(202);
    expect(unknown.body).toMatchObject({ outcome: 'unknown_number', config_id: null, workflow_id: null });
    const none = await a.send('nothing matches');
    expect(none.body).toMatchObject({ outcome: 'no_match', config_id: null, workflow_id: null });
    const logs = await a.call('GET', '/logs?outcome=no_match');
    expect(logs.body.data.map((l: { id: string }) => l.id)).toEqual([none.body.id]);
  });
});
