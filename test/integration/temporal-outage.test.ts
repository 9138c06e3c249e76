import { spawn, type ChildProcess } from 'node:child_process';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dispatchPending } from '../../src/ingest/dispatcher.js';
import { createMailer } from '../../src/outbound/mailer.js';
import { logProvider } from '../../src/outbound/sms-providers.js';
import { waitForTemporal } from '../../src/runtime/temporal-dev.js';
import { createWorker } from '../../src/worker/worker.js';
import { Harness, randomId } from '../helpers/harness.js';
import { freePort } from '../helpers/net.js';
import { Receiver } from '../helpers/http.js';
import { temporalCliPath, workflowBundle } from '../helpers/temporal.js';

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
  // STOP and START as the configurations' keywords, not the number's standard ones.
  const a = await ctx.account({ standardKeywords: false, senders: ['ALPHA'] });
  await a.config({ keyword: 'QUEUE', trigger: { url: hooks.url('/queued') } });
  await a.config({ keyword: 'STOP', unsubscribe: { scope: 'all' } });
  await a.config({ keyword: 'START', subscribe: true });
  const customer = '+919800000042';
  // A message Temporal will refuse (its workflow id is longer than the server allows) must not
  // hold up the ones behind it.
  const poison = 'p'.repeat(1100);
  await h.sql`INSERT INTO inbound_messages (id, sid, source, recipient, message, received_at, outcome, workflow_id, dispatch_state)
              VALUES (${poison}, ${a.sid}, '+919800000001', ${a.number}, 'queue', now(), 'keyword', ${'mo-' + poison}, 'pending')`;

  // Temporal is not running: every message is still stored and acknowledged.
  const ids = [randomId('q1'), randomId('q2'), randomId('q3')];
  for (const id of ids) {
    const res = await a.send(`queue ${id}`, { id });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id, outcome: 'keyword', workflow_id: `mo-${id}` });
  }
  const stop = randomId('stop');
  expect((await a.send('STOP', { id: stop, source: customer })).status).toBe(202);
  // SPEC §5.1: the STOP is in force from its 202, with its run not even started.
  const sendToCustomer = () => a.call('POST', '/messages', { to: customer, sender: 'ALPHA', body: 'hello' });
  expect((await sendToCustomer()).status).toBe(403);
  const pending = await h.sql`SELECT id FROM inbound_messages WHERE dispatch_state = 'pending' ORDER BY seq`;
  expect(pending.map((r) => r.id)).toEqual([poison, ...ids, stop]);
  expect((await a.call('GET', `/logs/${ids[0]}`)).body.run_status).toBe('queued');
  expect(await dispatchPending({ sql: h.sql, starter: ctx.starter })).toBe(0);

  // Temporal comes back on the same address.
  server = spawn(temporalCliPath(), ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error'], { stdio: 'ignore' });
  await waitForTemporal(`127.0.0.1:${port}`, 60_000);
  // This server has none of the project's search attributes: the dispatcher registers them.

  const connection = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
  const worker = await createWorker({
    connection, namespace: 'default', taskQueue: ctx.config.temporal.taskQueue,
    deps: { sql: h.sql, config: ctx.config, sms: logProvider, mailer: createMailer(ctx.config) }, workflowBundle: await workflowBundle(),
  });
  const start = randomId('start');
  const all = [...ids, stop, start];
  await worker.runUntil(async () => {
    // Temporal answers again, and the customer texts START before the dispatcher's next tick:
    // it must not overtake their STOP, still waiting from the outage.
    await new Promise((r) => setTimeout(r, ctx.config.dispatchIntervalMs));
    expect((await a.send('START', { id: start, source: customer })).status).toBe(202);
    await ctx.starter.drain();
    const [startRow] = await h.sql`SELECT dispatch_state FROM inbound_messages WHERE id = ${start}`;
    expect(startRow!.dispatch_state).toBe('pending');

    // The lazy client reconnects by itself; dispatcher ticks start everything stored, in order.
    let started = 0;
    for (let i = 0; i < 20 && started < all.length; i++) {
      started += await dispatchPending({ sql: h.sql, starter: ctx.starter });
      if (started < all.length) await new Promise((r) => setTimeout(r, 500));
    }
    expect(started).toBe(all.length);
    for (const id of all) await ctx.result(`mo-${id}`);
  });
  await connection.close();

  const delivered = hooks.to('/queued').map((r) => JSON.parse(r.body).id);
  expect(delivered.sort()).toEqual([...ids].sort());
  // Temporal recorded the starts in arrival order.
  const startTimes = await Promise.all(all.map(async (id) => (await ctx.client.workflow.getHandle(`mo-${id}`).describe()).startTime.getTime()));
  expect(startTimes).toEqual([...startTimes].sort((x, y) => x - y));
  const [refused] = await h.sql`SELECT dispatch_state, dispatch_attempts, dispatch_error FROM inbound_messages WHERE id = ${poison}`;
  expect(refused).toMatchObject({ dispatch_state: 'pending' });
  expect(refused!.dispatch_attempts).toBeGreaterThan(0);
  expect(refused!.dispatch_error).toMatch(/length|long/i);
  const states = await h.sql`SELECT dispatch_state, run_status FROM inbound_messages WHERE id IN ${h.sql(all)}`;
  expect(states.every((s) => s.dispatch_state === 'started' && s.run_status === 'completed')).toBe(true);
  // STOP then START, as sent: the customer is subscribed.
  const subs = await a.call('GET', `/subscriptions?number=${encodeURIComponent(customer)}`);
  expect(subs.body.data).toEqual([expect.objectContaining({ sender_id: '*', status: 'subscribed', log_id: start })]);
  // Both recorded by their runs once Temporal was back, in arrival order.
  const history = await a.call('GET', `/subscriptions/${encodeURIComponent(customer)}/history`);
  expect(history.body.data.map((e: any) => [e.direction, e.log_id, e.status])).toEqual([['opt_in', start, 'applied'], ['opt_out', stop, 'applied']]);
  expect((await sendToCustomer()).status).toBe(201);
});
