import { describe, expect, it } from 'vitest';
import { randomId, type Account, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';
import { eventually } from '../helpers/wait.js';

const s = temporalSuite();

async function profile(a: Account, url: string) {
  const res = await a.call('POST', '/callback/profiles', { title: `P ${randomId('p')}`, http_method: 'POST', url });
  if (res.status !== 201) throw new Error(`profile: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; signing_secret: string };
}

/** Sends one message per text, each run to its end before the next (failures count in order). */
async function sendEach(ctx: Ctx, a: Account, texts: string[]): Promise<{ id: string; trigger: string }[]> {
  return ctx.withWorker(async () => {
    const out = [];
    for (const text of texts) {
      const id = randomId();
      await a.send(text, { id });
      out.push({ id, trigger: (await ctx.result(`mo-${id}`)).actions.trigger });
    }
    return out;
  });
}

describe('auto-disable', () => {
  it('disables a profile after N failed deliveries in a row, then skips it; re-enabled, a replay since a time delivers the rest', async () => {
    const ctx = s.h.context({ WEBHOOK_DISABLE_AFTER_FAILURES: '2' });
    const a = await ctx.account();
    const path = `/dead-${randomId()}`;
    s.hooks.script(path, [{ status: 400 }, { status: 200 }, { status: 400 }, { status: 400, body: 'still broken' }]);
    const p = await profile(a, s.hooks.url(path));
    await a.config({ keyword: 'DEAD', trigger: { callback_profile_id: p.id } });
    const since = new Date(Date.now() - 1000).toISOString();

    const runs = await sendEach(ctx, a, ['dead 1', 'dead 2', 'dead 3', 'dead 4', 'dead 5']);
    // fail, succeed (the count starts again), fail, fail (2 in a row: disabled), then skipped
    expect(runs.map((r) => r.trigger)).toEqual(['failed', 'succeeded', 'failed', 'failed', 'skipped']);
    expect(s.hooks.to(path)).toHaveLength(4);
    const disabled = (await a.call('GET', `/callback/profiles/${p.id}`)).body;
    expect(disabled).toMatchObject({ status: 'auto_disabled', consecutive_failures: 2, disabled_reason: '2 deliveries in a row failed (last: webhook answered 400)' });

    const skippedLog = await a.call('GET', `/logs/${runs[4]!.id}`);
    expect(skippedLog.body.actions).toEqual([expect.objectContaining({
      type: 'trigger', status: 'skipped', attempts: 0, last_error: `callback profile is auto-disabled: ${disabled.disabled_reason}`,
    })]);
    const failed = await a.call('GET', '/deliveries?status=failed');
    expect(failed.body.data.map((d: { id: string }) => d.id).sort()).toEqual([runs[0], runs[2], runs[3]].map((r) => `mo-${r!.id}-trigger`).sort());
    expect(failed.body.data[0]).toMatchObject({ status: 'failed', profile_id: p.id, attempts: 1, last_status_code: 400, last_error: 'HTTP 400' });
    expect((await a.call('GET', '/deliveries?status=skipped')).body.data.map((d: { id: string }) => d.id)).toEqual([`mo-${runs[4]!.id}-trigger`]);

    // Nothing is replayed to a disabled profile.
    const refused = await a.call('POST', `/deliveries/mo-${runs[4]!.id}-trigger/replay`);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'profile_disabled', field: 'profile_id' } } });
    const bulkRefused = await a.call('POST', '/deliveries/replay', { since });
    expect(bulkRefused.body).toMatchObject({ replayed: [], has_more: false });
    expect(bulkRefused.body.not_replayed).toHaveLength(4);

    s.hooks.script(path, [{ status: 200 }]);
    const enabled = await a.call('PATCH', `/callback/profiles/${p.id}`, { status: 'active' });
    expect(enabled.body).toMatchObject({ status: 'active', consecutive_failures: 0, disabled_reason: null });
    const bulk = await a.call('POST', '/deliveries/replay', { since });
    expect(bulk.status).toBe(202);
    expect(bulk.body.replayed.map((r: { id: string }) => r.id).sort()).toEqual([runs[0], runs[2], runs[3], runs[4]].map((r) => `mo-${r!.id}-trigger`).sort());
    await ctx.withWorker(async () => {
      for (const r of bulk.body.replayed) expect(await ctx.result(r.workflow_id)).toBe('succeeded');
    });
    expect((await a.call('GET', '/deliveries?status=succeeded')).body.data).toHaveLength(5);
    expect(s.hooks.to(path).slice(4).map((r) => r.headers['webhook-id']).sort()).toEqual(bulk.body.replayed.map((r: { id: string }) => r.id).sort());
    expect((await a.call('GET', `/logs/${runs[4]!.id}`)).body.actions[0]).toMatchObject({ status: 'succeeded', attempts: 1, last_error: null });
  });

  it('disables a profile at once when the endpoint answers 410 Gone', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const path = `/gone-${randomId()}`;
    s.hooks.script(path, [{ status: 410, body: 'gone for good' }]);
    const p = await profile(a, s.hooks.url(path));
    await a.config({ keyword: 'GONE', trigger: { callback_profile_id: p.id } });
    const runs = await sendEach(ctx, a, ['gone 1', 'gone 2']);
    expect(runs.map((r) => r.trigger)).toEqual(['failed', 'skipped']);
    expect(s.hooks.to(path)).toHaveLength(1);
    expect((await a.call('GET', `/callback/profiles/${p.id}`)).body).toMatchObject({
      status: 'auto_disabled', disabled_reason: 'the endpoint answered 410 Gone', consecutive_failures: 1,
    });
    const d = (await a.call('GET', `/deliveries/mo-${runs[0]!.id}-trigger`)).body;
    expect(d).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 });
    expect(d.attempt_history).toEqual([expect.objectContaining({ status_code: 410, response_head: 'gone for good' })]);
  });
});

describe('retry period', () => {
  it('keeps a delivery failed when an attempt still in flight as its retry period ran out is recorded afterwards', async () => {
    // 0.001 hours: the retries stop 3.6 s after the second attempt is scheduled, which the
    // endpoint answers 8 s later (within the request's 10 s timeout), well after the run has
    // failed the delivery.
    const ctx = s.h.context({ WEBHOOK_RETRY_HOURS: '0.001', WEBHOOK_TIMEOUT_SECONDS: '10' });
    const a = await ctx.account();
    const path = `/late-${randomId()}`;
    s.hooks.script(path, [{ status: 502, body: 'first' }, { status: 502, body: 'late', delayMs: 8000 }]);
    const p = await profile(a, s.hooks.url(path));
    await a.config({ keyword: 'LATE', trigger: { callback_profile_id: p.id } });
    const id = randomId();
    const deliveryId = `mo-${id}-trigger`;
    const { state, late } = await ctx.withWorker(async () => {
      await a.send('late', { id });
      const state = await ctx.result(`mo-${id}`);
      const failed = (await a.call('GET', `/deliveries/${deliveryId}`)).body;
      expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
      // The worker is kept until the late attempt has been recorded.
      const late = await eventually('the late attempt recorded', async () => {
        const d = (await a.call('GET', `/deliveries/${deliveryId}`)).body;
        return d.attempts >= 2 ? d : null;
      }, 15_000);
      return { state, late };
    });
    expect(state.actions.trigger).toBe('failed');
    expect(s.hooks.to(path)).toHaveLength(2);
    expect(late).toMatchObject({ status: 'failed', attempts: 2 });
    expect(late.attempt_history.map((t: { response_head: string }) => t.response_head)).toEqual(['first', 'late']);
    expect((await a.call('GET', `/logs/${id}`)).body.actions[0]).toMatchObject({ type: 'trigger', status: 'failed', attempts: 2 });
  });
});

describe('replay', () => {
  it('fails a delivery whose retry period ran out, and replays it with the same delivery id', async () => {
    // 0.001 hours: the 5xx retries stop after 3.6 s.
    const ctx = s.h.context({ WEBHOOK_RETRY_HOURS: '0.001' });
    const a = await ctx.account();
    const path = `/down-${randomId()}`;
    s.hooks.script(path, [{ status: 502, body: 'bad gateway' }]);
    const p = await profile(a, s.hooks.url(path));
    await a.config({ keyword: 'DOWN', trigger: { callback_profile_id: p.id } });
    const [run] = await sendEach(ctx, a, ['down']);
    expect(run!.trigger).toBe('failed');
    const deliveryId = `mo-${run!.id}-trigger`;
    // Every request the endpoint got is recorded (one in flight as the period ran out, after the run failed it).
    const failed = await eventually('every request recorded', async () => {
      const d = (await a.call('GET', `/deliveries/${deliveryId}`)).body;
      return d.attempts >= s.hooks.to(path).length ? d : null;
    }, 10_000);
    expect(failed).toMatchObject({ status: 'failed', last_status_code: 502, last_error: 'HTTP 502', replays: 0 });
    expect(failed.attempts).toBeGreaterThanOrEqual(2);
    expect(failed.attempt_history.every((t: { status_code: number; round: number }) => t.status_code === 502 && t.round === 0)).toBe(true);
    expect((await a.call('GET', '/deliveries?status=failed')).body.data.map((d: { id: string }) => d.id)).toEqual([deliveryId]);

    s.hooks.script(path, [{ status: 200, body: 'back' }]);
    const replay = await a.call('POST', `/deliveries/${deliveryId}/replay`);
    expect(replay).toMatchObject({ status: 202, body: { id: deliveryId, replay: 1, status: 'pending', workflow_id: `replay-${deliveryId}-1` } });
    // no worker yet: the replay is pending, and a second one is refused
    expect((await a.call('POST', `/deliveries/${deliveryId}/replay`)).body.error.code).toBe('delivery_pending');
    await ctx.withWorker(() => ctx.result(replay.body.workflow_id));

    const reqs = s.hooks.to(path);
    expect(reqs.length).toBe(failed.attempts + 1);
    expect(new Set(reqs.map((r) => r.headers['webhook-id']))).toEqual(new Set([deliveryId]));
    expect(reqs.at(-1)!.body).toBe(reqs[0]!.body);
    const done = (await a.call('GET', `/deliveries/${deliveryId}`)).body;
    expect(done).toMatchObject({ status: 'succeeded', replays: 1, last_status_code: 200, last_error: null, attempts: failed.attempts + 1 });
    expect(done.attempt_history.at(-1)).toMatchObject({ attempt: failed.attempts + 1, round: 1, status_code: 200, response_head: 'back' });
    expect((await a.call('GET', `/logs/${run!.id}`)).body.actions[0]).toMatchObject({ type: 'trigger', status: 'succeeded' });

    // A succeeded delivery may be sent again too (the receiver deduplicates on webhook-id).
    const again = await a.call('POST', `/deliveries/${deliveryId}/replay`);
    expect(again.body.workflow_id).toBe(`replay-${deliveryId}-2`);
    await ctx.withWorker(() => ctx.result(again.body.workflow_id));
    expect(s.hooks.to(path).at(-1)!.headers['webhook-id']).toBe(deliveryId);
  });

  it("does not send a moved profile's new secret to the host an old delivery was prepared for", async () => {
    const ctx = s.h.context({ WEBHOOK_RETRY_HOURS: '0.001' });
    const a = await ctx.account();
    const path = `/old-${randomId()}`;
    s.hooks.script(path, [{ status: 502 }]);
    const created = await a.call('POST', '/callback/profiles', {
      title: `P ${randomId('p')}`, http_method: 'POST', url: s.hooks.url(path), auth: { type: 'basic', username: 'u', password: 'old-pass' },
    });
    expect(created.status).toBe(201);
    await a.config({ keyword: 'MOVE', trigger: { callback_profile_id: created.body.id } });
    const [run] = await sendEach(ctx, a, ['move']);
    expect(run!.trigger).toBe('failed');
    const before = s.hooks.to(path);
    expect(before.every((r) => r.headers.authorization === `Basic ${Buffer.from('u:old-pass').toString('base64')}`)).toBe(true);

    // The owner moves the profile to another host, with the password for that host.
    const newUrl = s.hooks.url(`/new-${randomId()}`).replace('127.0.0.1', 'localhost');
    expect((await a.call('PATCH', `/callback/profiles/${created.body.id}`, { url: newUrl, auth: { password: 'new-pass' } })).status).toBe(200);
    s.hooks.script(path, [{ status: 200 }]);
    const replay = await a.call('POST', `/deliveries/mo-${run!.id}-trigger/replay`);
    expect(replay.status).toBe(202);
    await ctx.withWorker(() => ctx.result(replay.body.workflow_id));
    // nothing more reached the old host: the new password never went there
    expect(s.hooks.to(path)).toHaveLength(before.length);
    expect((await a.call('GET', `/deliveries/mo-${run!.id}-trigger`)).body).toMatchObject({
      status: 'skipped', last_error: expect.stringContaining('moved to another host'),
    });
  });

  it("replays only the account's own deliveries, and checks its input", async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const b = await ctx.account();
    await a.config({ keyword: 'MINE', trigger: { url: s.hooks.url('/mine') } });
    const [run] = await sendEach(ctx, a, ['mine']);
    const deliveryId = `mo-${run!.id}-trigger`;
    expect((await b.call('GET', `/deliveries/${deliveryId}`)).status).toBe(404);
    expect((await b.call('POST', `/deliveries/${deliveryId}/replay`)).status).toBe(404);
    expect((await b.call('GET', '/deliveries')).body.data).toEqual([]);
    expect((await a.call('POST', '/deliveries/nope/replay')).status).toBe(404);
    expect(await a.call('POST', '/deliveries/replay', {})).toMatchObject({ status: 400, body: { error: { field: 'since', message: 'since is required' } } });
    expect((await a.call('POST', '/deliveries/replay', { since: 'yesterday' })).body.error.field).toBe('since');
    expect((await a.call('GET', '/deliveries?status=broken')).body.error.field).toBe('status');
    // since on the account's clock works as well as ISO 8601
    const local = await a.call('GET', `/deliveries?since=${encodeURIComponent('2000-01-01 00:00:00')}`);
    expect(local.body.data.map((d: { id: string }) => d.id)).toEqual([deliveryId]);
  });
});
