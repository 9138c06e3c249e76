import { describe, expect, it } from 'vitest';
import { changeOf, configChange, consentAtIngest, planConsent, sendersOf } from '../../src/domain/consent.js';
import type { RunPlan } from '../../src/workflows/definitions.js';

const base = { sid: 'AC1', source: '+919812345678', configChange: null, accounts: new Map([['AC1', 'IN']]) };

describe('consentAtIngest', () => {
  it('writes an opt-out of all senders for a standard STOP word, an opt-in for START, nothing for HELP', () => {
    expect(consentAtIngest({ ...base, outcome: 'standard', message: 'stop' })).toEqual([{ sid: 'AC1', msisdn: '+919812345678', direction: 'opt_out', senders: ['*'] }]);
    expect(consentAtIngest({ ...base, outcome: 'standard', message: 'START' })).toEqual([{ sid: 'AC1', msisdn: '+919812345678', direction: 'opt_in', senders: ['*'] }]);
    expect(consentAtIngest({ ...base, outcome: 'standard', message: 'HELP' })).toEqual([]);
  });

  it('writes a matched configuration\'s own change, and none for an expired one or plain traffic', () => {
    const change = { kind: 'unsubscribe', scope: 'configured', senders: ['A', 'B', 'A'] } as const;
    expect(consentAtIngest({ ...base, outcome: 'keyword', message: 'QUIT', configChange: { ...change, senders: [...change.senders] } }))
      .toEqual([{ sid: 'AC1', msisdn: '+919812345678', direction: 'opt_out', senders: ['A', 'B'] }]);
    expect(consentAtIngest({ ...base, outcome: 'expired', message: 'QUIT', configChange: { kind: 'subscribe' } })).toEqual([]);
    expect(consentAtIngest({ ...base, outcome: 'keyword', message: 'OFFER' })).toEqual([]);
    expect(consentAtIngest({ ...base, outcome: 'unknown_number', message: 'STOP' })).toEqual([]);
  });

  it('changes every account on a shared short code for a STOP that is no one account\'s, in each one\'s country', () => {
    const entries = consentAtIngest({ outcome: 'standard', sid: null, source: '9812345678', message: 'STOP', configChange: null, accounts: new Map([['AC2', 'US'], ['AC1', 'IN']]) });
    expect(entries.map((e) => [e.sid, e.msisdn])).toEqual([['AC1', '+919812345678'], ['AC2', '+19812345678']]);
  });
});

describe('ledger entries as changes', () => {
  it('reads back what it wrote', () => {
    expect(changeOf({ direction: 'opt_in', senders: ['*'] })).toEqual({ kind: 'subscribe' });
    expect(changeOf({ direction: 'opt_out', senders: ['*'] })).toEqual({ kind: 'unsubscribe', scope: 'all' });
    expect(changeOf({ direction: 'opt_out', senders: ['A'] })).toEqual({ kind: 'unsubscribe', scope: 'configured', senders: ['A'] });
    expect(sendersOf({ kind: 'subscribe' })).toEqual(['*']);
    expect(configChange({ subscribe: false, unsubscribe: null })).toBeNull();
    expect(configChange({ subscribe: false, unsubscribe: { scope: 'all' } })).toEqual({ kind: 'unsubscribe', scope: 'all' });
  });
});

describe('planConsent', () => {
  const plan = (): RunPlan => ({
    messageId: 'm1', sid: 'AC1', outcome: 'keyword', configId: 'c1', trigger: null,
    autoReply: null, expiryMessage: null, forwardSms: null, forwardEmail: null,
    subscription: { type: 'subscribe', logId: 'm1', sids: ['AC1'], msisdn: '+1', viaNumber: '+2', change: { kind: 'subscribe' }, receivedAt: '2026-01-01T00:00:00.000Z' },
  });
  const m = { id: 'm1', recipient: '+2', received_at: new Date('2026-01-01T00:00:00Z') };

  it('records the change the ledger holds, whatever the configuration says now', () => {
    const p = plan();
    const actions = planConsent(p, [{ type: 'subscribe', status: 'pending', detail: {} }, { type: 'trigger', status: 'pending', detail: {} }],
      [{ sid: 'AC1', msisdn: '+1', direction: 'opt_out', senders: ['*'] }], m);
    expect(actions.map((a) => a.type)).toEqual(['trigger', 'unsubscribe']);
    expect(p.subscription).toMatchObject({ type: 'unsubscribe', sids: ['AC1'], change: { kind: 'unsubscribe', scope: 'all' } });
  });

  it('leaves a plan with no ledger entries (an MO stored before the ledger) as it is', () => {
    const p = plan();
    const actions = [{ type: 'subscribe' as const, status: 'pending' as const, detail: {} }];
    expect(planConsent(p, actions, [], m)).toBe(actions);
    expect(p.subscription?.type).toBe('subscribe');
  });

  it('names each account\'s number where they differ', () => {
    const p = plan();
    planConsent(p, [], [{ sid: 'AC1', msisdn: '+919812345678', direction: 'opt_out', senders: ['*'] }, { sid: 'AC2', msisdn: '+19812345678', direction: 'opt_out', senders: ['*'] }], m);
    expect(p.subscription).toMatchObject({ sids: ['AC1', 'AC2'], msisdns: { AC1: '+919812345678', AC2: '+19812345678' } });
  });
});
