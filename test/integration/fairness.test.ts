// SPEC §5.2, "Fairness": one tenant's burst or slow webhook must not hold the others hostage.
// Accounts take turns at starting runs (the starter, the dispatcher) and at the task queue
// (Temporal fairness keys, on in the tests' dev server as in `npm start`'s); a first attempt
// outlasting its local budget goes on as the regular activity, its call made and recorded
// once; an account's calls in flight stay within its cap while another's get through.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { dispatchPending } from '../../src/ingest/dispatcher.js';
import { ingest } from '../../src/ingest/ingest.js';
import type { RunStarter } from '../../src/ingest/starter.js';
import { createMailer } from '../../src/outbound/mailer.js';
import { createSmsProvider } from '../../src/outbound/sms-providers.js';
import { randomId, randomShortCode, type Account, type Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';
import { workflowBundle } from '../helpers/temporal.js';
import { eventually } from '../helpers/wait.js';

const s = temporalSuite();

/** Stores an MO and leaves its run to the dispatcher, as when this process could not start it. */
async function store(ctx: Ctx, a: Account, message: string, source: string): Promise<string> {
  const leaveIt = { holds: () => false, enqueue: () => false } as unknown as RunStarter;
  const { result } = await ingest({ ...ctx.ingestion, starter: leaveIt }, { id: randomId('mo'), source, recipient: a.number, message });
  return result.id;
}

/** Sweeps until every stored message has its run started; answers each run's start time. */
async function dispatchAll(ctx: Ctx, ids: string[]): Promise<Map<string, number>> {
  let started = 0;
  for (let i = 0; i < 20 && started < ids.length; i++) started += await dispatchPending({ sql: s.h.sql, starter: ctx.starter });
  expect(started).toBe(ids.length);
  const times = new Map<string, number>();
  for (const id of ids) times.set(id, (await ctx.client.workflow.getHandle(`mo-${id}`).describe()).startTime.getTime());
  return times;
}

const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! <= x);

describe('accounts take turns at starting runs', () => {
  it("starts a backlog account by account, each account's in arrival order", async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const b = await ctx.account();
    await a.config({ keyword: 'FLOOD', trigger: { url: s.hooks.url('/turns-a') } });
    await b.config({ keyword: 'ONE', trigger: { url: s.hooks.url('/turns-b') } });
    // A's backlog (one customer twice among others), then B's two.
    const fromA: string[] = [];
    for (const source of ['+919800000101', '+919800000102', '+919800000101', '+919800000103', '+919800000104', '+919800000105']) {
      fromA.push(await store(ctx, a, 'flood', source));
    }
    const fromB = [await store(ctx, b, 'one', '+919800000201'), await store(ctx, b, 'one', '+919800000202')];

    const at = await dispatchAll(ctx, [...fromA, ...fromB]);
    const times = (ids: string[]) => ids.map((id) => at.get(id)!);
    // Each account's backlog in the order it came (its customers' in theirs)...
    expect(ascending(times(fromA))).toBe(true);
    expect(ascending(times(fromB))).toBe(true);
    // ...and B's turn came before A's backlog was through: first-in first-out, B would be last.
    // Accounts' starts go side by side (B's first beside A's second), so B's first is measured
    // against A's third, which only starts once A's second has.
    expect(at.get(fromB[0]!)!).toBeLessThan(at.get(fromA[2]!)!);
    expect(at.get(fromB[1]!)!).toBeLessThan(at.get(fromA[5]!)!);
  });

  it("keeps a customer's order on a shared short code, across the accounts and standard keywords their messages went to", async () => {
    const ctx = s.h.context();
    const x = await ctx.account({ kind: 'short_code', shared: true, number: randomShortCode() });
    const y = await ctx.account({ kind: 'short_code', shared: true, number: x.number });
    await y.config({ keyword: 'DEAL', trigger: { url: s.hooks.url('/shared-deal') } });
    // STOP on a shared short code is no one account's (a share of its own): another customer's
    // STOP first, then this customer's STOP and, after it, their YES to account Y. Y's turn
    // comes before the second STOP's, but the customer's YES must not start before their STOP.
    const otherStop = await store(ctx, x, 'STOP', '+919800000301');
    const stop = await store(ctx, x, 'STOP', '+919800000302');
    const yes = await store(ctx, y, 'DEAL', '+919800000302');
    const [row] = await s.h.sql`SELECT sid FROM inbound_messages WHERE id = ${stop}`;
    expect(row!.sid).toBeNull();

    const at = await dispatchAll(ctx, [otherStop, stop, yes]);
    expect(at.get(stop)!).toBeLessThan(at.get(yes)!);
    expect(at.get(otherStop)!).toBeLessThan(at.get(stop)!);
  });

  it('lets a run of another account start while one account floods ingest', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const b = await ctx.account();
    await a.config({ keyword: 'FLOOD', trigger: { url: s.hooks.url('/flood-a') } });
    await b.config({ keyword: 'ONE', trigger: { url: s.hooks.url('/flood-b') } });
    // Ingest is saturated (a burst): starts wait in the starter's queue, A's 30 in front of B's
    // one, until the saturation has lasted long enough to let a few through at a time.
    const busy = { since: Date.now(), until: Date.now() + 60_000 };
    ctx.ingestion.load.saturation = () => busy;
    const sent = await Promise.all(Array.from({ length: 30 }, (_, i) => a.send('flood', { source: `+9198000004${String(i).padStart(2, '0')}` })));
    const fromA = sent.map((r) => r.body.id as string);
    const one = (await b.send('one', { source: '+919800000500' })).body.id as string;
    await ctx.starter.drain();
    const at = new Map<string, number>();
    for (const id of [...fromA, one]) at.set(id, (await ctx.client.workflow.getHandle(`mo-${id}`).describe()).startTime.getTime());
    const before = fromA.filter((id) => at.get(id)! < at.get(one)!).length;
    // Round-robin: B's start goes in the first round of starts, not after all of A's.
    expect(before).toBeLessThan(8);
  });
});

describe('accounts take turns at the workers', () => {
  it("dispatches another account's runs ahead of one account's backlog in the task queue", async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const b = await ctx.account();
    await a.config({ keyword: 'FLOOD', trigger: { url: s.hooks.url('/queue-a') } });
    await b.config({ keyword: 'ONE', trigger: { url: s.hooks.url('/queue-b') } });
    // No worker yet: A's 16 runs and then B's 2 wait in the task queue.
    const fromA: string[] = [];
    for (let i = 0; i < 16; i++) fromA.push((await a.send('flood', { source: `+9198000006${String(i).padStart(2, '0')}` })).body.id);
    const fromB = [(await b.send('one', { source: '+919800000701' })).body.id, (await b.send('one', { source: '+919800000702' })).body.id];
    await ctx.starter.drain();

    // A worker taking two workflow tasks at a time.
    const worker = await Worker.create({
      connection: s.env.nativeConnection, namespace: 'default', taskQueue: ctx.config.temporal.taskQueue, workflowBundle: await workflowBundle(),
      activities: createActivities({ sql: s.h.sql, config: ctx.config, sms: createSmsProvider(ctx.config), mailer: createMailer(ctx.config) }),
      maxConcurrentWorkflowTaskExecutions: 2,
    });
    await worker.runUntil(async () => {
      for (const id of [...fromA, ...fromB]) await ctx.client.workflow.getHandle(`mo-${id}`).result();
    });
    const firstTask = async (id: string) => {
      const history = await ctx.client.workflow.getHandle(`mo-${id}`).fetchHistory();
      const started = history.events!.find((e) => e.workflowTaskStartedEventAttributes)!.eventTime!;
      return Number(started.seconds) * 1000 + (started.nanos ?? 0) / 1e6;
    };
    const order = (await Promise.all([...fromA, ...fromB].map(async (id) => [id, await firstTask(id)] as const))).sort((x, y) => x[1] - y[1]).map(([id]) => id);
    // First-in first-out, B's runs would be 17th and 18th; in turn, each comes within the first few.
    for (const id of fromB) expect(order.indexOf(id)).toBeLessThan(8);
  });
});

/** An endpoint that holds every request until released, counting how many it holds at once. */
class Gate {
  private held: (() => void)[] = [];
  private open = false;
  inFlight = 0;
  max = 0;
  readonly ids: string[] = [];
  private server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      this.ids.push(String(req.headers['webhook-id']));
      this.max = Math.max(this.max, ++this.inFlight);
      const answer = () => {
        this.inFlight--;
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (this.open) answer();
      else this.held.push(answer);
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/crm`;
  }

  release(): void {
    this.open = true;
    for (const answer of this.held.splice(0)) answer();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe('slow endpoints', () => {
  let gate: Gate;
  let gateUrl: string;
  beforeAll(async () => {
    gate = new Gate();
    gateUrl = await gate.start();
  });
  afterAll(() => gate.close());

  const deliveriesOf = (logId: string) =>
    s.h.sql`SELECT d.status, d.attempts, array_agg(a.status_code ORDER BY a.attempt) AS codes
            FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.log_id = ${logId} GROUP BY d.id`;

  it('goes on as the regular activity when the local budget runs out, calling the endpoint once for the attempt', async () => {
    const ctx = s.h.context({ LOCAL_ATTEMPT_BUDGET_MS: '200' });
    const a = await ctx.account();
    const path = `/${randomId('slow')}`;
    s.hooks.script(path, [{ status: 200, delayMs: 1200 }]);
    await a.config({ keyword: 'CRM', trigger: { url: s.hooks.url(path) } });
    const id = await ctx.withWorker(async () => {
      const mo = (await a.send('crm')).body.id as string;
      expect((await ctx.result(`mo-${mo}`)).actions).toEqual({ trigger: 'succeeded' });
      return mo;
    });
    // One request, recorded once, though the local attempt gave it up to the regular activity.
    expect(s.hooks.to(path)).toHaveLength(1);
    expect(await deliveriesOf(id)).toEqual([{ status: 'succeeded', attempts: 1, codes: [200] }]);
    // The regular activity carries the webhook's retry window and the account's fairness key.
    const history = await ctx.client.workflow.getHandle(`mo-${id}`).fetchHistory();
    const scheduled = history.events!.map((e) => e.activityTaskScheduledEventAttributes).filter((e) => e?.activityType?.name === 'deliverWebhook');
    expect(scheduled).toHaveLength(1);
    expect(Number(scheduled[0]!.scheduleToCloseTimeout!.seconds)).toBe(ctx.config.webhook.retryHours * 3600);
    expect(scheduled[0]!.priority?.fairnessKey).toBe(a.sid);
  });

  it('retries a slow endpoint that fails, every attempt recorded once, with one delivery id', async () => {
    const ctx = s.h.context({ LOCAL_ATTEMPT_BUDGET_MS: '200' });
    const a = await ctx.account();
    const path = `/${randomId('slow-fail')}`;
    s.hooks.script(path, [{ status: 503, delayMs: 800 }, { status: 200, delayMs: 800 }]);
    await a.config({ keyword: 'CRM', trigger: { url: s.hooks.url(path) } });
    const id = await ctx.withWorker(async () => {
      const mo = (await a.send('crm')).body.id as string;
      expect((await ctx.result(`mo-${mo}`)).actions).toEqual({ trigger: 'succeeded' });
      return mo;
    });
    const requests = s.hooks.to(path);
    expect(requests).toHaveLength(2);
    expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(await deliveriesOf(id)).toEqual([{ status: 'succeeded', attempts: 2, codes: [503, 200] }]);
  });

  it("keeps an account's calls in flight within its cap, while another account's get through", async () => {
    // A's endpoint holds every request until released; a long timeout, so none gives up meanwhile.
    const ctx = s.h.context({ OUTBOUND_CONCURRENCY_PER_ACCOUNT: '2', LOCAL_ATTEMPT_BUDGET_MS: '200', WEBHOOK_TIMEOUT_SECONDS: '30' });
    const a = await ctx.account();
    const b = await ctx.account();
    await a.config({ keyword: 'CRM', trigger: { url: gateUrl } });
    const fast = `/${randomId('fast')}`;
    await b.config({ keyword: 'FAST', trigger: { url: s.hooks.url(fast) } });
    await ctx.withWorker(async () => {
      const fromA: string[] = [];
      for (let i = 0; i < 6; i++) fromA.push((await a.send('crm', { source: `+9198000008${String(i).padStart(2, '0')}` })).body.id);
      await eventually('A at its cap', async () => gate.inFlight === 2);
      // A holds its two slots; B's runs still go through, to the end.
      for (const source of ['+919800000901', '+919800000902']) {
        const mo = (await b.send('fast', { source })).body.id as string;
        expect((await ctx.result(`mo-${mo}`)).actions).toEqual({ trigger: 'succeeded' });
      }
      expect(s.hooks.to(fast)).toHaveLength(2);
      expect(gate.inFlight).toBe(2);

      gate.release();
      for (const mo of fromA) expect((await ctx.result(`mo-${mo}`)).actions).toEqual({ trigger: 'succeeded' });
      // Never more than the cap at once; each delivery reached the endpoint once, and an
      // attempt turned away at the cap is no attempt: nothing was sent.
      expect(gate.max).toBe(2);
      expect(gate.ids).toHaveLength(6);
      expect(new Set(gate.ids).size).toBe(6);
      for (const mo of fromA) expect(await deliveriesOf(mo)).toEqual([{ status: 'succeeded', attempts: 1, codes: [200] }]);
    });
  });
});
