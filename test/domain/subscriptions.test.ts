import { describe, expect, it } from 'vitest';
import { isOptedOut, subscriptionWrites, type StoredSubscription } from '../../src/domain/subscriptions.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const row = (sender_id: string, status: 'subscribed' | 'unsubscribed', at: number): StoredSubscription => ({ sender_id, status, changed_at: t(at) });

describe('isOptedOut', () => {
  it('is true for the sender by name or for all senders', () => {
    expect(isOptedOut([row('ALPHA', 'unsubscribed', 1)], 'ALPHA')).toBe(true);
    expect(isOptedOut([row('ALPHA', 'unsubscribed', 1)], 'BETA')).toBe(false);
    expect(isOptedOut([row('*', 'unsubscribed', 1)], 'BETA')).toBe(true);
    expect(isOptedOut([row('*', 'subscribed', 1), row('ALPHA', 'subscribed', 1)], 'ALPHA')).toBe(false);
  });
});

describe('subscriptionWrites', () => {
  it('subscribing lifts every opt-out the customer has, and sets all senders', () => {
    const writes = subscriptionWrites({ kind: 'subscribe' }, [row('ALPHA', 'unsubscribed', 1)], t(5));
    expect(writes).toEqual([{ sender_id: '*', status: 'subscribed' }, { sender_id: 'ALPHA', status: 'subscribed' }]);
  });

  it('unsubscribes all senders with *, or the named ones once each', () => {
    expect(subscriptionWrites({ kind: 'unsubscribe', scope: 'all' }, [], t(1))).toEqual([{ sender_id: '*', status: 'unsubscribed' }]);
    expect(subscriptionWrites({ kind: 'unsubscribe', scope: 'configured', senders: ['A', 'B', 'A'] }, [], t(1))).toEqual([
      { sender_id: 'A', status: 'unsubscribed' },
      { sender_id: 'B', status: 'unsubscribed' },
    ]);
  });

  it('leaves rows that a later message changed: an earlier START run late does not undo a STOP', () => {
    const afterStop = [row('*', 'unsubscribed', 10)];
    expect(subscriptionWrites({ kind: 'subscribe' }, afterStop, t(5))).toEqual([]);
    expect(subscriptionWrites({ kind: 'subscribe' }, afterStop, t(10))).toEqual([{ sender_id: '*', status: 'subscribed' }]);
    // A later STOP ALPHA stands against an earlier START, while * is still lifted.
    expect(subscriptionWrites({ kind: 'subscribe' }, [row('*', 'unsubscribed', 1), row('ALPHA', 'unsubscribed', 10)], t(5))).toEqual([
      { sender_id: '*', status: 'subscribed' },
    ]);
  });
});
