import { describe, expect, it } from 'vitest';
import { matchMessage, type KeywordCandidate } from '../../src/domain/matching.js';
import {
  ALL_STANDARD_KEYWORDS,
  confirmationText,
  DEFAULT_STANDARD_TEXTS,
  isStandardKeyword,
  standardChange,
  standardKeyword,
} from '../../src/domain/standard-keywords.js';
import { runSteps, type RunPlan } from '../../src/workflows/definitions.js';

describe('standardKeyword (SPEC §3.7)', () => {
  it('knows every word of the SPEC, by kind', () => {
    for (const w of ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']) expect(standardKeyword(w)).toEqual({ kind: 'opt_out', word: w });
    for (const w of ['START', 'YES', 'UNSTOP']) expect(standardKeyword(w)).toEqual({ kind: 'opt_in', word: w });
    for (const w of ['HELP', 'INFO']) expect(standardKeyword(w)).toEqual({ kind: 'help', word: w });
    expect(ALL_STANDARD_KEYWORDS).toHaveLength(13);
  });

  it('compares case-insensitively, after trimming', () => {
    expect(standardKeyword('stop')).toEqual({ kind: 'opt_out', word: 'STOP' });
    expect(standardKeyword('Stop')).toEqual({ kind: 'opt_out', word: 'STOP' });
    expect(standardKeyword('  UnSubscribe\n')).toEqual({ kind: 'opt_out', word: 'UNSUBSCRIBE' });
    expect(standardKeyword('\tstart ')).toEqual({ kind: 'opt_in', word: 'START' });
  });

  it('is the whole message or nothing', () => {
    expect(standardKeyword('STOP PLEASE')).toBeNull();
    expect(standardKeyword('please stop')).toBeNull();
    expect(standardKeyword('STOP.')).toBeNull();
    expect(standardKeyword('STOPPED')).toBeNull();
    expect(standardKeyword('HELPME')).toBeNull();
    expect(standardKeyword('')).toBeNull();
    expect(standardKeyword('   ')).toBeNull();
  });

  it('is not made by Unicode case mapping', () => {
    expect('ſtop'.toUpperCase()).toBe('STOP');
    expect(standardKeyword('ſtop')).toBeNull();
    expect(standardKeyword('ınfo')).toBeNull();
  });
});

describe('isStandardKeyword', () => {
  it('holds for a normalized standard word, never for a longer phrase', () => {
    expect(isStandardKeyword('STOP')).toBe(true);
    expect(isStandardKeyword('INFO')).toBe(true);
    expect(isStandardKeyword('STOP ALPHA')).toBe(false);
    expect(isStandardKeyword('JOIN')).toBe(false);
  });
});

describe('confirmation texts and changes', () => {
  it("sends the account's text, else the default", () => {
    expect(confirmationText('opt_out', null)).toBe(DEFAULT_STANDARD_TEXTS.opt_out);
    expect(confirmationText('help', { help: null })).toBe(DEFAULT_STANDARD_TEXTS.help);
    expect(confirmationText('help', { help: 'Acme: call 555-0100' })).toBe('Acme: call 555-0100');
    expect(confirmationText('opt_in', { help: 'x' })).toBe(DEFAULT_STANDARD_TEXTS.opt_in);
  });

  it('opts out of all senders, back in to everything, and changes nothing for help', () => {
    expect(standardChange('opt_out')).toEqual({ kind: 'unsubscribe', scope: 'all' });
    expect(standardChange('opt_in')).toEqual({ kind: 'subscribe' });
    expect(standardChange('help')).toBeNull();
  });

  it('has defaults that fit the texts accounts may set', () => {
    for (const text of Object.values(DEFAULT_STANDARD_TEXTS)) expect(text.length).toBeLessThanOrEqual(320);
  });
});

describe('matchMessage with standard keywords', () => {
  const NOW = new Date('2026-06-01T12:00:00Z');
  const stopConfig: KeywordCandidate = { configId: 'c1', phrase: 'STOP', keyword: 'STOP', expiresAt: null };
  const match = (message: string, standardKeywords: boolean) =>
    matchMessage({ message, candidates: [stopConfig], defaultConfigId: 'dflt', receivedAt: NOW, standardKeywords });

  it('answers a standard word before any configuration or the default', () => {
    expect(match(' stop ', true)).toEqual({ outcome: 'standard', configId: null, keyword: 'STOP', matchedWords: 1 });
    expect(match('help', true)).toEqual({ outcome: 'standard', configId: null, keyword: 'HELP', matchedWords: 1 });
  });

  it('leaves a longer message to normal matching', () => {
    expect(match('stop please', true)).toMatchObject({ outcome: 'keyword', configId: 'c1' });
    expect(match('help please', true)).toMatchObject({ outcome: 'default', configId: 'dflt' });
  });

  it('does nothing on a number with standard keywords off', () => {
    expect(match('stop', false)).toMatchObject({ outcome: 'keyword', configId: 'c1' });
    expect(matchMessage({ message: 'stop', candidates: [], defaultConfigId: null, receivedAt: NOW })).toMatchObject({ outcome: 'no_match' });
  });
});

describe('runSteps for a standard keyword', () => {
  const NOW_ISO = '2026-06-01T12:00:00.000Z';
  const plan = (change: 'subscribe' | 'unsubscribe' | null, ignoreOptOut: boolean): RunPlan => ({
    messageId: 'm', sid: 'S', outcome: ignoreOptOut ? 'standard' : 'keyword', configId: ignoreOptOut ? null : 'c', trigger: null,
    autoReply: { type: 'auto_reply', logId: 'm', sid: 'S', idempotencyKey: 'k', sender: '+1', to: '+2', body: 'b', route: null, templateId: null, at: null, ignoreOptOut },
    expiryMessage: null, forwardSms: null, forwardEmail: null,
    subscription: change && { type: change, logId: 'm', sids: ['S'], msisdn: '+2', viaNumber: '+1', change: change === 'subscribe' ? { kind: 'subscribe' } : { kind: 'unsubscribe', scope: 'all' }, receivedAt: NOW_ISO },
  });

  it('sends the confirmation and makes the change side by side: neither waits for the other', () => {
    expect(runSteps(plan('unsubscribe', true))).toEqual([['auto_reply', 'unsubscribe']]);
    expect(runSteps(plan('subscribe', true))).toEqual([['auto_reply', 'subscribe']]);
    expect(runSteps(plan(null, true))).toEqual([['auto_reply']]);
  });

  it("keeps a configuration's order: subscribe, reply, unsubscribe", () => {
    expect(runSteps(plan('unsubscribe', false))).toEqual([['auto_reply'], ['unsubscribe'], []]);
    expect(runSteps(plan('subscribe', false))).toEqual([['subscribe'], ['auto_reply']]);
  });
});
