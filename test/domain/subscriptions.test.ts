import { describe, expect, it } from 'vitest';
import { effectiveStates, isOptedOut, subscriptionWrites, type StoredSubscription, type SubscriptionChange } from '../../src/domain/subscriptions.js';

// `seq` is the arrival order (the consent ledger entry's id), the only order there is.
const row = (sender_id: string, status: 'subscribed' | 'unsubscribed', seq: number): StoredSubscription => ({ sender_id, status, changed_entry: seq });
const o = (seq: number) => ({ seq });

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

  it('reads a stored changed_entry given as text (bigint) as a number', () => {
    expect(subscriptionWrites({ kind: 'subscribe' }, [{ sender_id: '*', status: 'unsubscribed', changed_entry: '10' }], o(9))).toEqual([]);
    expect(subscriptionWrites({ kind: 'subscribe' }, [{ sender_id: '*', status: 'unsubscribed', changed_entry: '10' }], o(11))).toHaveLength(1);
  });
});

describe('effectiveStates', () => {
  it('counts a pending STOP from its acknowledgement, on top of what runs applied', () => {
    const applied = [row('*', 'subscribed', 3)];
    const states = effectiveStates(applied, [{ seq: 7, change: { kind: 'unsubscribe', scope: 'all' } }]);
    expect(isOptedOut(states, 'ANY')).toBe(true);
  });

  it('folds pending changes in arrival order, whatever order they are given in', () => {
    const pending = [
      { seq: 9, change: { kind: 'unsubscribe', scope: 'all' } as const },
      { seq: 8, change: { kind: 'subscribe' } as const },
    ];
    expect(isOptedOut(effectiveStates([], pending), 'ANY')).toBe(true);
    const startLast = [{ seq: 8, change: { kind: 'unsubscribe', scope: 'all' } as const }, { seq: 9, change: { kind: 'subscribe' } as const }];
    expect(isOptedOut(effectiveStates([], startLast), 'ANY')).toBe(false);
  });

  it('keeps one sender\'s opt-out beside a later all-senders opt-in only when it came after', () => {
    const stopAlpha: { seq: number; change: SubscriptionChange } = { seq: 5, change: { kind: 'unsubscribe', scope: 'configured', senders: ['ALPHA'] } };
    expect(isOptedOut(effectiveStates([row('*', 'subscribed', 4)], [stopAlpha]), 'ALPHA')).toBe(true);
    expect(isOptedOut(effectiveStates([row('*', 'subscribed', 6)], [stopAlpha]), 'ALPHA')).toBe(false);
  });
});
