import { describe, expect, it } from 'vitest';
import {
  bindTemplate,
  KEYWORD_MAX_LENGTH,
  keywordProblem,
  normalizeKeyword,
  phrasesOverlap,
  parseTemplate,
  tokenize,
} from '../../src/domain/keywords.js';

describe('normalizeKeyword', () => {
  it('trims, collapses white space of any kind and upper-cases', () => {
    expect(normalizeKeyword('  get \t\n  offer  ')).toBe('GET OFFER');
    expect(normalizeKeyword('Help')).toBe('HELP');
    expect(normalizeKeyword('stop')).toBe(normalizeKeyword(' STOP '));
  });

  it('turns blank text into the empty string', () => {
    expect(normalizeKeyword(' \t ')).toBe('');
  });
});

describe('tokenize', () => {
  it('splits on any run of white space and drops the ends', () => {
    expect(tokenize('  Join  Priya\tNew\nDelhi ')).toEqual(['Join', 'Priya', 'New', 'Delhi']);
  });

  it('gives no words for empty or blank text', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize('   ')).toEqual([]);
  });
});

describe('keywordProblem', () => {
  it('accepts a word or a phrase of up to 30 characters', () => {
    expect(KEYWORD_MAX_LENGTH).toBe(30);
    expect(keywordProblem('HELP')).toBeNull();
    expect(keywordProblem('GET OFFER')).toBeNull();
    expect(keywordProblem('A'.repeat(30))).toBeNull();
  });

  it('refuses a keyword longer than 30 characters', () => {
    expect(keywordProblem('A'.repeat(31))).toMatch(/at most 30/);
  });

  it('measures the length after normalising', () => {
    // 30 characters once the padding and the doubled space are gone.
    expect(keywordProblem(`   ${'A'.repeat(14)}  ${'B'.repeat(15)}   `)).toBeNull();
  });

  it('refuses an empty or blank keyword', () => {
    expect(keywordProblem('')).toMatch(/empty/);
    expect(keywordProblem('  \t ')).toMatch(/empty/);
  });

  it('refuses angle brackets, which would read as a placeholder', () => {
    expect(keywordProblem('<name>')).toMatch(/< or >/);
  });
});

describe('parseTemplate', () => {
  it('returns the placeholder names after the keyword, lower-cased', () => {
    expect(parseTemplate('JOIN <name> <city>', 'JOIN')).toEqual({ spec: { keywordWords: 1, names: ['name', 'city'] } });
    expect(parseTemplate('join <Name>', 'JOIN')).toEqual({ spec: { keywordWords: 1, names: ['name'] } });
  });

  it('matches a phrase keyword word by word, whatever the case and spacing', () => {
    expect(parseTemplate('get   Offer <code>', 'GET OFFER')).toEqual({ spec: { keywordWords: 2, names: ['code'] } });
  });

  it('must start with the keyword', () => {
    expect(parseTemplate('<name> JOIN', 'JOIN')).toEqual({ problem: 'must start with the keyword' });
    expect(parseTemplate('SIGNUP <name>', 'JOIN')).toEqual({ problem: 'must start with the keyword' });
    expect(parseTemplate('GET <code>', 'GET OFFER')).toEqual({ problem: 'must start with the keyword' });
    // a string prefix is not a word prefix
    expect(parseTemplate('JOINNOW <name>', 'JOIN')).toEqual({ problem: 'must start with the keyword' });
  });

  it('takes only placeholders after the keyword', () => {
    expect(parseTemplate('JOIN name', 'JOIN')).toMatchObject({ problem: expect.stringMatching(/not a placeholder/) });
    expect(parseTemplate('JOIN <1st>', 'JOIN')).toMatchObject({ problem: expect.stringMatching(/not a placeholder/) });
    expect(parseTemplate('JOIN <first name>', 'JOIN')).toMatchObject({ problem: expect.stringMatching(/not a placeholder/) });
  });

  it('refuses built-in variable names and repeated names', () => {
    expect(parseTemplate('JOIN <source>', 'JOIN')).toEqual({ problem: '<source> is a built-in variable' });
    expect(parseTemplate('JOIN <Parts>', 'JOIN')).toEqual({ problem: '<parts> is a built-in variable' });
    expect(parseTemplate('JOIN <a> <A>', 'JOIN')).toEqual({ problem: '<a> appears twice' });
  });

  it('needs at least one named part', () => {
    expect(parseTemplate('JOIN', 'JOIN')).toMatchObject({ problem: expect.stringMatching(/at least one part/) });
  });
});

describe('bindTemplate', () => {
  it('binds one word per name, the last name taking the rest of the message', () => {
    expect(bindTemplate(['name', 'city'], ['Priya', 'New', 'Delhi'])).toEqual({ name: 'Priya', city: 'New Delhi' });
  });

  it('binds missing words to the empty string', () => {
    expect(bindTemplate(['name', 'city'], ['Priya'])).toEqual({ name: 'Priya', city: '' });
    expect(bindTemplate(['name', 'city'], [])).toEqual({ name: '', city: '' });
  });

  it('binds nothing when the template has no names', () => {
    expect(bindTemplate([], ['a', 'b'])).toEqual({});
  });
});

describe('phrasesOverlap', () => {
  it('is true when one phrase\'s words begin the other\'s, in either order', () => {
    expect(phrasesOverlap('ACME', 'ACME DEALS')).toBe(true);
    expect(phrasesOverlap('ACME DEALS', 'ACME')).toBe(true);
    expect(phrasesOverlap('ACME', 'ACME')).toBe(true);
  });
  it('is false for different words, even with a common first word or string prefix', () => {
    expect(phrasesOverlap('ACME DEALS', 'ACME NEWS')).toBe(false);
    expect(phrasesOverlap('GET', 'GETTING')).toBe(false);
  });
});
