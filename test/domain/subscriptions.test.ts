import { describe, expect, it } from 'vitest';
import { isOptedOut, subscriptionWrites, type StoredSubscription } from '../../src/domain/subscriptions.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const row = (sender_id: string, status: 'subscribed' | 'unsubscribed', at: number, seq = 0): StoredSubscription => ({ sender_id, status, changed_at: t(at), changed_seq: seq });
const o = (at: number, seq = 0) => ({ at: t(at), seq });

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
    const writes = subscriptionWrites({ kind: 'subscribe' }, [row('ALPHA', 'unsubscribed', 1)], o(5));
    expect(writes).toEqual([{ sender_id: '*', status: 'subscribed' }, { sender_id: 'ALPHA', status: 'subscribed' }]);
  });

  it('unsubscribes all senders with *, or the named ones once each', () => {
    expect(subscriptionWrites({ kind: 'unsubscribe', scope: 'all' }, [], o(1))).toEqual([{ sender_id: '*', status: 'unsubscribed' }]);
    expect(subscriptionWrites({ kind: 'unsubscribe', scope: 'configured', senders: ['A', 'B', 'A'] }, [], o(1))).toEqual([
      { sender_id: 'A', status: 'unsubscribed' },
      { sender_id: 'B', status: 'unsubscribed' },
    ]);
  });

  it('leaves rows that a later message changed: an earlier START run late does not undo a STOP', () => {
    const afterStop = [row('*', 'unsubscribed', 10)];
    expect(subscriptionWrites({ kind: 'subscribe' }, afterStop, o(5))).toEqual([]);
    expect(subscriptionWrites({ kind: 'subscribe' }, afterStop, o(10))).toEqual([{ sender_id: '*', status: 'subscribed' }]);
    // A later STOP ALPHA stands against an earlier START, while * is still lifted.
    expect(subscriptionWrites({ kind: 'subscribe' }, [row('*', 'unsubscribed', 1), row('ALPHA', 'unsubscribed', 10)], o(5))).toEqual([
      { sender_id: '*', status: 'subscribed' },
    ]);
  });

  it('lets a later START outrank an older STOP of one sender that runs late', () => {
    // START at 10 wrote only '*'; STOP ALPHA sent at 5 runs afterwards.
    expect(subscriptionWrites({ kind: 'unsubscribe', scope: 'configured', senders: ['ALPHA'] }, [row('*', 'subscribed', 10)], o(5))).toEqual([]);
    // A STOP ALPHA sent after the START does apply.
    expect(subscriptionWrites({ kind: 'unsubscribe', scope: 'configured', senders: ['ALPHA'] }, [row('*', 'subscribed', 10)], o(12))).toEqual([
      { sender_id: 'ALPHA', status: 'unsubscribed' },
    ]);
  });

  it('orders messages stamped with the same second by their arrival', () => {
    const stoppedFirst = [row('*', 'unsubscribed', 10, 7)];
    expect(subscriptionWrites({ kind: 'subscribe' }, stoppedFirst, o(10, 8))).toHaveLength(1); // came after: applies
    expect(subscriptionWrites({ kind: 'subscribe' }, stoppedFirst, o(10, 6))).toEqual([]); // came before: does not
  });
});
