import { describe, expect, it } from 'vitest';
import { senderKind, senderNumber } from '../../src/domain/sender-ids.js';

describe('senderKind', () => {
  it('reads a sender with any letter in it as alphanumeric, digits (+, separators) as numeric', () => {
    for (const s of ['ACMEBANK', 'acme', 'HDFC1', '1ABC', 'ACME BANK', '+ACME']) expect(senderKind(s), s).toBe('alphanumeric');
    for (const s of ['56161', '919812345678', '+919812345678', '+91 98123-45678', ' 56161 ', '(555) 0100']) expect(senderKind(s), s).toBe('numeric');
  });
});

describe('senderNumber', () => {
  it('writes a numeric sender as numbers are stored', () => {
    expect(senderNumber('919812345678')).toBe('+919812345678');
    expect(senderNumber('+91 98123 45678')).toBe('+919812345678');
    expect(senderNumber('0091 9812345678')).toBe('+919812345678');
    expect(senderNumber('56161')).toBe('56161');
  });
});
