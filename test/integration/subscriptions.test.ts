import { afterAll, beforeAll, expect, it } from 'vitest';
import { isOptedOut } from '../../src/domain/subscriptions.js';
import { applySubscription, subscriptionStates } from '../../src/outbound/send.js';
import { Harness, randomId } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await Harness.create();
});
afterAll(async () => {
  await h?.close();
});

const CUSTOMER = '+919800000077';

it('applies opt-in and opt-out in the order the customer sent them, whatever order runs take', async () => {
  const ctx = h.context();
  // Messages stored as plain ones: this test applies their changes itself.
  const a = await ctx.account({ senders: ['ALPHA'], standardKeywords: false });
  const apply = (change: Parameters<typeof applySubscription>[1]['change'], at: string, logId: string | null = null) =>
    applySubscription(h.sql, { sid: a.sid, msisdn: CUSTOMER, viaNumber: a.number, logId, change, at: new Date(at) });
  const optedOut = async (sender: string) => isOptedOut(await subscriptionStates(h.sql, a.sid, CUSTOMER), sender);

  // START (10:05) runs first; STOP ALPHA, sent before it (10:00), runs late: START stands.
  await apply({ kind: 'subscribe' }, '2026-06-01T10:05:00Z');
  await apply({ kind: 'unsubscribe', scope: 'configured', senders: ['ALPHA'] }, '2026-06-01T10:00:00Z');
  expect(await optedOut('ALPHA')).toBe(false);

  // STOP (10:10) then a retry of the START of 10:05: still opted out.
  await apply({ kind: 'unsubscribe', scope: 'all' }, '2026-06-01T10:10:00Z');
  await apply({ kind: 'subscribe' }, '2026-06-01T10:05:00Z');
  expect(await optedOut('ALPHA')).toBe(true);

  // Two messages stamped with the same second: their arrival order decides.
  const stop = randomId('stop');
  const start = randomId('start');
  await a.send('stop', { id: stop, source: CUSTOMER, received_at: '2026-06-01T11:00:00Z' });
  await a.send('start', { id: start, source: CUSTOMER, received_at: '2026-06-01T11:00:00Z' });
  await apply({ kind: 'subscribe' }, '2026-06-01T11:00:00Z', start);
  await apply({ kind: 'unsubscribe', scope: 'all' }, '2026-06-01T11:00:00Z', stop);
  expect(await optedOut('ALPHA')).toBe(false);
});
