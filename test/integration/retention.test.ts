import { describe, expect, it } from 'vitest';
import { ensureRetentionSchedule } from '../../src/runtime/temporal.js';
import { RETENTION_SCHEDULE_ID, RETENTION_WORKFLOW } from '../../src/workflows/definitions.js';
import { randomId, type Account } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';

const s = temporalSuite();

/** An MO with an action, a delivery, an attempt and an outbox row, made `daysAgo` days ago. */
async function storedMo(a: Account, daysAgo: number, state: { dispatch: string; run: string | null }) {
  const id = randomId('ret');
  const at = new Date(Date.now() - daysAgo * 86_400_000);
  const sql = s.h.sql;
  await sql`INSERT INTO inbound_messages (id, sid, source, recipient, message, received_at, outcome, workflow_id, dispatch_state, run_status, created_at)
            VALUES (${id}, ${a.sid}, '+919812345678', ${a.number}, 'old', ${at}, 'keyword', ${'mo-' + id}, ${state.dispatch}, ${state.run}, ${at})`;
  await sql`INSERT INTO message_actions (log_id, type, status, updated_at) VALUES (${id}, 'trigger', 'succeeded', ${at})`;
  await sql`INSERT INTO deliveries (id, sid, log_id, url, method, status, created_at) VALUES (${id + '-d'}, ${a.sid}, ${id}, 'https://example.com', 'POST', 'succeeded', ${at})`;
  await sql`INSERT INTO delivery_attempts (delivery_id, attempt, latency_ms, created_at) VALUES (${id + '-d'}, 1, 5, ${at})`;
  await sql`INSERT INTO outbox (id, sid, log_id, channel, purpose, sender, recipient, body, provider, status, created_at)
            VALUES (${id + '-o'}, ${a.sid}, ${id}, 'sms', 'auto_reply', 'BRAND', '+919812345678', 'hi', 'log', 'sent', ${at})`;
  return id;
}

const count = async (table: 'inbound_messages' | 'message_actions' | 'deliveries' | 'outbox', id: string) => {
  const column = table === 'inbound_messages' ? 'id' : 'log_id';
  const [row] = await s.h.sql`SELECT count(*)::int AS n FROM ${s.h.sql(table)} WHERE ${s.h.sql(column)} = ${id}`;
  return row!.n;
};

describe('retention (RETENTION_DAYS)', () => {
  it('prunes only what is old and finished, with everything recorded about it', async () => {
    const ctx = s.h.context({ RETENTION_DAYS: '90' });
    const a = await ctx.account();
    const old = await storedMo(a, 100, { dispatch: 'started', run: 'completed' });
    const oldUnmatched = await storedMo(a, 120, { dispatch: 'none', run: null });
    const recent = await storedMo(a, 10, { dispatch: 'started', run: 'completed' });
    const oldStillRunning = await storedMo(a, 100, { dispatch: 'started', run: 'running' });
    const oldPending = await storedMo(a, 100, { dispatch: 'pending', run: null });
    const oldSend = randomId('api');
    await s.h.sql`INSERT INTO outbox (id, sid, channel, purpose, sender, recipient, body, provider, status, created_at)
                  VALUES (${oldSend}, ${a.sid}, 'sms', 'api', 'BRAND', '+919812345678', 'hi', 'log', 'sent', now() - interval '100 days')`;

    const removed = await ctx.withWorker(() =>
      ctx.client.workflow.execute(RETENTION_WORKFLOW, { taskQueue: ctx.config.temporal.taskQueue, workflowId: randomId('prune'), args: [{ days: 90, batch: 1 }] }),
    );
    expect(removed).toBeGreaterThanOrEqual(2);
    for (const id of [old, oldUnmatched]) {
      for (const table of ['inbound_messages', 'message_actions', 'deliveries', 'outbox'] as const) expect(await count(table, id)).toBe(0);
      expect(await s.h.sql`SELECT 1 FROM delivery_attempts WHERE delivery_id = ${id + '-d'}`).toHaveLength(0);
    }
    for (const id of [recent, oldStillRunning, oldPending]) {
      for (const table of ['inbound_messages', 'message_actions', 'deliveries', 'outbox'] as const) expect(await count(table, id)).toBe(1);
    }
    expect(await s.h.sql`SELECT 1 FROM outbox WHERE id = ${oldSend}`).toHaveLength(0);
  });

  it('is run by a schedule made at startup, idempotently', async () => {
    const ctx = s.h.context({ RETENTION_DAYS: '30' });
    await ensureRetentionSchedule(ctx.client, ctx.config);
    await ensureRetentionSchedule(ctx.client, { ...ctx.config, retentionDays: 45 });
    const d = await ctx.client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: RETENTION_WORKFLOW, taskQueue: ctx.config.temporal.taskQueue, args: [{ days: 45 }] });
    expect(d.spec.intervals?.[0]?.every).toBe(3_600_000);
  });
});
