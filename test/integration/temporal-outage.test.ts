import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dispatchPending } from '../../src/ingest/dispatcher.js';
import { createMailer } from '../../src/outbound/mailer.js';
import { logProvider } from '../../src/outbound/sms-providers.js';
import { waitForTemporal } from '../../src/runtime/temporal-dev.js';
import { connectTemporal, ensureSearchAttributes } from '../../src/runtime/temporal.js';
import { createWorker } from '../../src/worker/worker.js';
import { Harness, randomId } from '../helpers/harness.js';
import { Receiver } from '../helpers/http.js';
import { temporalCliPath, workflowBundle } from '../helpers/temporal.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let h: Harness;
let hooks: Receiver;
let port: number;
let server: ChildProcess | null = null;

beforeAll(async () => {
  port = await freePort();
  h = await Harness.create(null, `127.0.0.1:${port}`);
  hooks = await new Receiver().start();
});
afterAll(async () => {
  server?.kill('SIGKILL');
  await hooks?.close();
  await h?.close();
});

it('accepts messages while Temporal is down and runs them, in arrival order, once it is back', async () => {
  const ctx = h.context();
  const a = await ctx.account();
  await a.config({ keyword: 'QUEUE', trigger: { url: hooks.url('/queued') } });

  // Temporal is not running: every message is still stored and acknowledged.
  const ids = [randomId('q1'), randomId('q2'), randomId('q3')];
  for (const id of ids) {
    const res = await a.send(`queue ${id}`, { id });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id, outcome: 'keyword', workflow_id: `mo-${id}` });
  }
  const pending = await h.sql`SELECT id FROM inbound_messages WHERE dispatch_state = 'pending' ORDER BY seq`;
  expect(pending.map((r) => r.id)).toEqual(ids);
  expect((await a.call('GET', `/logs/${ids[0]}`)).body.run_status).toBe('queued');
  expect(await dispatchPending({ sql: h.sql, temporal: ctx.client, config: ctx.config })).toBe(0);

  // Temporal comes back on the same address.
  server = spawn(temporalCliPath(), ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error'], { stdio: 'ignore' });
  await waitForTemporal(`127.0.0.1:${port}`, 60_000);
  const admin = connectTemporal(`127.0.0.1:${port}`, 'default');
  await ensureSearchAttributes(admin.connection, 'default');
  await admin.close();

  const connection = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
  const worker = await createWorker({
    connection, namespace: 'default', taskQueue: ctx.config.temporal.taskQueue,
    deps: { sql: h.sql, config: ctx.config, sms: logProvider, mailer: createMailer(ctx.config) }, workflowBundle: await workflowBundle(),
  });
  await worker.runUntil(async () => {
    // The lazy client reconnects by itself; a dispatcher tick starts everything stored.
    let started = 0;
    for (let i = 0; i < 20 && started < ids.length; i++) {
      started += await dispatchPending({ sql: h.sql, temporal: ctx.client, config: ctx.config });
      if (started < ids.length) await new Promise((r) => setTimeout(r, 500));
    }
    expect(started).toBe(ids.length);
    for (const id of ids) await ctx.result(`mo-${id}`);
  });
  await connection.close();

  const delivered = hooks.to('/queued').map((r) => JSON.parse(r.body).id);
  expect(delivered.sort()).toEqual([...ids].sort());
  const starts = await h.sql`SELECT id FROM inbound_messages WHERE id IN ${h.sql(ids)} ORDER BY dispatched_at, seq`;
  expect(starts.map((r) => r.id)).toEqual(ids);
  const states = await h.sql`SELECT dispatch_state, run_status FROM inbound_messages WHERE id IN ${h.sql(ids)}`;
  expect(states.every((s) => s.dispatch_state === 'started' && s.run_status === 'completed')).toBe(true);
});
