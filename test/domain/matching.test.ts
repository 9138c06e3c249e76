import { describe, expect, it } from 'vitest';
import { firstWord, isExpired, matchMessage, type KeywordCandidate } from '../../src/domain/matching.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const PAST = new Date('2026-01-01T00:00:00Z');
const FUTURE = new Date('2027-01-01T00:00:00Z');

/** A candidate per phrase; `keyword` is the configuration's main keyword (defaults to the phrase). */
const cand = (configId: string, phrase: string, opts: { keyword?: string; expiresAt?: Date | null } = {}): KeywordCandidate => ({
  configId,
  phrase,
  keyword: opts.keyword ?? phrase,
  expiresAt: opts.expiresAt ?? null,
});

const match = (message: string, candidates: KeywordCandidate[], defaultConfigId: string | null = null) =>
  matchMessage({ message, candidates, defaultConfigId, receivedAt: NOW });

describe('matchMessage (SPEC §3)', () => {
  it('matches the keyword as the first word, case-insensitively', () => {
    expect(match('help me please', [cand('c1', 'HELP')])).toEqual({ outcome: 'keyword', configId: 'c1', keyword: 'HELP', matchedWords: 1 });
    expect(match('HeLp', [cand('c1', 'HELP')])).toMatchObject({ outcome: 'keyword', configId: 'c1' });
    expect(match('  help\tnow', [cand('c1', 'HELP')])).toMatchObject({ outcome: 'keyword', configId: 'c1' });
  });

  it('compares words, not characters: a string prefix does not match', () => {
    expect(match('HELPFUL tips', [cand('c1', 'HELP')])).toMatchObject({ outcome: 'no_match', configId: null });
    expect(match('GET OFFERS', [cand('c1', 'GET OFFER')])).toMatchObject({ outcome: 'no_match' });
  });

  it('only matches at the start of the message', () => {
    expect(match('please help', [cand('c1', 'HELP')])).toMatchObject({ outcome: 'no_match' });
  });

  it('needs every word of a phrase keyword', () => {
    expect(match('get', [cand('c1', 'GET OFFER')])).toMatchObject({ outcome: 'no_match' });
    expect(match('get   offer now', [cand('c1', 'GET OFFER')])).toMatchObject({ outcome: 'keyword', configId: 'c1', matchedWords: 2 });
  });

  it('prefers the longest keyword, whatever the order of candidates', () => {
    const short = cand('short', 'GET');
    const long = cand('long', 'GET OFFER');
    expect(match('get offer now', [short, long])).toMatchObject({ configId: 'long', keyword: 'GET OFFER', matchedWords: 2 });
    expect(match('get offer now', [long, short])).toMatchObject({ configId: 'long', matchedWords: 2 });
    expect(match('get lost', [long, short])).toMatchObject({ configId: 'short', matchedWords: 1 });
  });

  it('matches an alias and reports the main keyword', () => {
    const candidates = [cand('c1', 'OFFER'), cand('c1', 'DEAL', { keyword: 'OFFER' }), cand('c1', 'HOT DEAL', { keyword: 'OFFER' })];
    expect(match('deal 42', candidates)).toEqual({ outcome: 'keyword', configId: 'c1', keyword: 'OFFER', matchedWords: 1 });
    expect(match('hot deal 42', candidates)).toEqual({ outcome: 'keyword', configId: 'c1', keyword: 'OFFER', matchedWords: 2 });
  });

  it('gives `expired` for an expired winner, and does not fall back to the default', () => {
    expect(match('old offer', [cand('old', 'OLD', { expiresAt: PAST })], 'dflt')).toEqual({
      outcome: 'expired', configId: 'old', keyword: 'OLD', matchedWords: 1,
    });
  });

  it('lets a longer expired keyword win over a shorter active one', () => {
    const candidates = [cand('active', 'GET'), cand('gone', 'GET OFFER', { expiresAt: PAST })];
    expect(match('get offer', candidates, 'dflt')).toMatchObject({ outcome: 'expired', configId: 'gone' });
  });

  it('prefers an active configuration over an expired one of the same length', () => {
    const gone = cand('gone', 'OFFER', { expiresAt: PAST });
    const live = cand('live', 'OFFER', { expiresAt: FUTURE });
    expect(match('offer', [gone, live])).toMatchObject({ outcome: 'keyword', configId: 'live' });
    expect(match('offer', [live, gone])).toMatchObject({ outcome: 'keyword', configId: 'live' });
  });

  it('treats a keyword as expired from its expiry instant on', () => {
    expect(match('offer', [cand('c1', 'OFFER', { expiresAt: NOW })])).toMatchObject({ outcome: 'expired' });
    expect(match('offer', [cand('c1', 'OFFER', { expiresAt: new Date(NOW.getTime() + 1) })])).toMatchObject({ outcome: 'keyword' });
  });

  it('falls back to the default configuration when no keyword matches', () => {
    expect(match('hello', [cand('c1', 'HELP')], 'dflt')).toEqual({ outcome: 'default', configId: 'dflt', keyword: null, matchedWords: 0 });
    expect(match('', [cand('c1', 'HELP')], 'dflt')).toMatchObject({ outcome: 'default', configId: 'dflt' });
  });

  it('gives no_match when nothing matches and there is no default', () => {
    expect(match('hello', [cand('c1', 'HELP')])).toEqual({ outcome: 'no_match', configId: null, keyword: null, matchedWords: 0 });
    expect(match('', [])).toMatchObject({ outcome: 'no_match' });
  });
});

describe('isExpired', () => {
  it('never expires without an expiry', () => {
    expect(isExpired(null, NOW)).toBe(false);
  });

  it('compares instants', () => {
    expect(isExpired(PAST, NOW)).toBe(true);
    expect(isExpired(FUTURE, NOW)).toBe(false);
  });
});

describe('firstWord', () => {
  it('gives the normalised first word, the store lookup key', () => {
    expect(firstWord('  get offer')).toBe('GET');
    expect(firstWord('')).toBeNull();
    expect(firstWord('   ')).toBeNull();
  });
});
