import { randomInt } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { generateKey } from '../../src/domain/keyring.js';
import { ENCRYPTED_ENCODING, KeyringPayloadCodec } from '../../src/runtime/payload-codec.js';
import { searchAttributes } from '../../src/workflows/definitions.js';
import { randomId, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';

const s = temporalSuite();

/** A payload as the Temporal UI shows it: through the codec (when there is a key), then the payload converter. */
async function decode(ctx: Ctx, p: Payload): Promise<string> {
  const ring = ctx.config.keys.payload;
  const [clear] = ring ? await new KeyringPayloadCodec(ring).decode([p]) : [p];
  return defaultPayloadConverter.fromPayload<string>(clear!);
}

const encoding = (p: Payload | null | undefined) => Buffer.from(p?.metadata?.encoding ?? new Uint8Array()).toString();

/** The summaries of a run's activities, regular (ActivityTaskScheduled) and local (their markers), in history order. */
async function activitySummaries(ctx: Ctx, workflowId: string) {
  const { events } = await ctx.client.workflow.getHandle(workflowId).fetchHistory();
  const found: { kind: 'activity' | 'local'; summary: string; encoding: string }[] = [];
  for (const e of events ?? []) {
    const kind = e.activityTaskScheduledEventAttributes ? 'activity' : e.markerRecordedEventAttributes ? 'local' : null;
    const summary = e.userMetadata?.summary;
    if (kind && summary) found.push({ kind, summary: await decode(ctx, summary as Payload), encoding: encoding(summary as Payload) });
  }
  return found;
}

/** Visibility is eventually consistent: waits until the query finds the run (the test's timeout bounds it). */
async function findByQuery(client: Client, query: string, workflowId: string): Promise<void> {
  for (;;) {
    for await (const wf of client.workflow.list({ query })) if (wf.workflowId === workflowId) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const customer = () => `+9199${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;

describe('the Temporal UI speaks SMS', () => {
  it("summarises the run and each of its activities, the customer's number masked, through the payload codec", async () => {
    const ctx = s.h.context({ PAYLOAD_KEY: generateKey() });
    const a = await ctx.account({ senders: ['BRAND'] });
    // Subscribe goes first, alone (startRun's first attempt); the reply, the forwards and the
    // webhook follow as the workflow's own activities. The webhook's first attempt fails, so
    // it goes on as a regular activity.
    s.hooks.script('/ui-hook', [{ status: 503 }, { status: 200 }]);
    await a.config({
      keyword: 'OFFER',
      subscribe: true,
      auto_reply: { sender: 'BRAND', message: 'Thanks <source>' },
      forward: { sms: { to: '+919800001234', sender: 'BRAND' }, email: { to: ['sales@example.com'] } },
      trigger: { url: `${s.hooks.url('/ui-hook')}?token=s3cret` },
    });
    const source = customer();
    const id = randomId();
    const res = await a.send('offer please', { id, source });
    expect(res.status).toBe(202);
    const workflowId = `mo-${id}`;
    const state = await ctx.withWorker(() => ctx.result(workflowId));
    expect(state.actions).toEqual({ subscribe: 'succeeded', auto_reply: 'succeeded', forward_sms: 'succeeded', forward_email: 'succeeded', trigger: 'succeeded' });

    const summary = `OFFER · …${source.slice(-4)} → ${a.number} · keyword`;
    const desc = await ctx.client.workflow.getHandle(workflowId).describe();
    expect(await desc.staticSummary()).toBe(summary);
    // The static summary is a payload: sealed with PAYLOAD_KEY, as every other one.
    expect(encoding(desc.raw.executionConfig?.userMetadata?.summary as Payload)).toBe(ENCRYPTED_ENCODING);
    // The workflow list's column.
    expect(desc.typedSearchAttributes.get(searchAttributes.summary)).toBe(summary);

    const host = new URL(s.hooks.url('/')).host;
    const activities = await activitySummaries(ctx, workflowId);
    expect(activities.map(({ kind, summary }) => ({ kind, summary }))).toEqual(
      expect.arrayContaining([
        { kind: 'local', summary: 'prepare run and make first attempts' },
        { kind: 'local', summary: 'auto reply via BRAND' },
        { kind: 'local', summary: 'forward SMS to …1234 via BRAND' },
        { kind: 'local', summary: 'email forward to 1 address' },
        { kind: 'local', summary: `webhook → ${host}` },
        { kind: 'activity', summary: `webhook → ${host}` },
        { kind: 'local', summary: 'finish run' },
      ]),
    );
    expect(activities.every((x) => x.encoding === ENCRYPTED_ENCODING)).toBe(true);
    // No summary holds the customer's number, the message, an email address or the URL's secret.
    const all = [await desc.staticSummary(), ...activities.map((x) => x.summary)].join('\n');
    for (const secret of [source.slice(1), '9800001234', 'offer please', 'sales@', 's3cret', '/ui-hook']) expect(all).not.toContain(secret);
  });

  it("keeps the list's summary in step with an outcome the run corrects (a keyword expired since ingest)", async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const cfg = await a.config({ keyword: 'LATE', trigger: { url: s.hooks.url('/ui-late') } });
    const source = customer();
    const id = randomId();
    const res = await a.send('late', { id, source, received_at: '2026-06-01T10:00:00Z' });
    expect(res.body.outcome).toBe('keyword');
    // The run waits for a worker; meanwhile the offer's end is moved before the message came.
    const put = await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'LATE', expires_at: '2026-06-01 09:00:00', trigger: { url: s.hooks.url('/ui-late') } });
    expect(put.status).toBe(200);
    const workflowId = `mo-${id}`;
    const state = await ctx.withWorker(() => ctx.result(workflowId));
    expect(state.outcome).toBe('expired');

    const desc = await ctx.client.workflow.getHandle(workflowId).describe();
    const masked = `…${source.slice(-4)}`;
    // The static summary tells what ingest saw; the list's column and MoOutcome what the run found.
    expect(await desc.staticSummary()).toBe(`LATE · ${masked} → ${a.number} · keyword`);
    expect(desc.typedSearchAttributes.get(searchAttributes.summary)).toBe(`LATE · ${masked} → ${a.number} · expired`);
    expect(desc.typedSearchAttributes.get(searchAttributes.outcome)).toBe('expired');
  });

  it("finds runs with the operator's searches of docs/temporal-ui.md: by account, number, keyword and outcome", async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'GET OFFER', trigger: { url: s.hooks.url('/ui-search') } });
    await a.config({ default: true, trigger: { url: s.hooks.url('/ui-search') } });
    const matched = randomId();
    const other = randomId();
    await a.send('get offer now', { id: matched });
    await a.send('hello', { id: other });
    await ctx.withWorker(async () => {
      await ctx.result(`mo-${matched}`);
      await ctx.result(`mo-${other}`);
    });

    await findByQuery(ctx.client, `MoAccountSid = '${a.sid}' AND MoKeyword = 'GET OFFER'`, `mo-${matched}`);
    await findByQuery(ctx.client, `MoRecipient = '${a.number}' AND MoOutcome = 'default'`, `mo-${other}`);
    await findByQuery(ctx.client, `MoAccountSid = '${a.sid}' AND MoOutcome IN ('keyword', 'expired') AND ExecutionStatus = 'Completed'`, `mo-${matched}`);
    const byOutcome = [];
    for await (const wf of ctx.client.workflow.list({ query: `MoAccountSid = '${a.sid}' AND MoOutcome = 'default'` })) byOutcome.push(wf.workflowId);
    expect(byOutcome).toEqual([`mo-${other}`]);
  });
});
