import { describe, expect, it } from 'vitest';
import { countryOf, customerE164, isPlausibleMsisdn, normalizeNumber, numberKindProblem } from '../../src/domain/phone.js';

describe('normalizeNumber', () => {
  it('keeps an E.164 number as it is', () => {
    expect(normalizeNumber('+919876543210')).toBe('+919876543210');
  });

  it('drops spaces, dashes, dots and brackets', () => {
    expect(normalizeNumber(' +91 98765 43210 ')).toBe('+919876543210');
    expect(normalizeNumber('+1 (212) 555-0100')).toBe('+12125550100');
    expect(normalizeNumber('+91.98765.43210')).toBe('+919876543210');
  });

  it('reads a leading 00 as the international prefix', () => {
    expect(normalizeNumber('00919876543210')).toBe('+919876543210');
    expect(normalizeNumber('0091 98765 43210')).toBe('+919876543210');
  });

  it('adds the + to 11 to 15 bare digits (country code included)', () => {
    expect(normalizeNumber('919876543210')).toBe('+919876543210');
    expect(normalizeNumber('12125550100')).toBe('+12125550100');
  });

  it('leaves short codes and national numbers as digits', () => {
    expect(normalizeNumber('56789')).toBe('56789');
    expect(normalizeNumber(' 567 890 ')).toBe('567890');
    expect(normalizeNumber('9876543210')).toBe('9876543210');
  });

  it('is idempotent', () => {
    for (const n of ['+91 98765 43210', '00919876543210', '919876543210', '56789']) {
      expect(normalizeNumber(normalizeNumber(n))).toBe(normalizeNumber(n));
    }
  });
});

describe('numberKindProblem', () => {
  it('takes a long code in E.164 with its country code', () => {
    expect(numberKindProblem('+919876543210', 'long_code')).toBeNull();
    expect(numberKindProblem('+12125550100', 'long_code')).toBeNull();
  });

  it('refuses a long code without country code or in the wrong form', () => {
    for (const n of ['9876543210', '+0919876543210', '+91', '+9198765432101234', '+91abc6543210', '56789']) {
      expect(numberKindProblem(n, 'long_code'), n).toMatch(/E\.164/);
    }
  });

  it('takes a short code of 5 or 6 digits only', () => {
    expect(numberKindProblem('56789', 'short_code')).toBeNull();
    expect(numberKindProblem('567890', 'short_code')).toBeNull();
    for (const n of ['5678', '5678901', '+56789', '5678a']) expect(numberKindProblem(n, 'short_code'), n).toMatch(/5 or 6 digits/);
  });
});

describe('isPlausibleMsisdn', () => {
  it('takes E.164 numbers and bare digits', () => {
    expect(isPlausibleMsisdn('+919812345678')).toBe(true);
    expect(isPlausibleMsisdn('56789')).toBe(true);
  });

  it('refuses letters and empty text', () => {
    expect(isPlausibleMsisdn('KLRHXA')).toBe(false);
    expect(isPlausibleMsisdn('')).toBe(false);
  });
});

describe('customerE164', () => {
  it('reads a national number as a number of the given country', () => {
    expect(customerE164('9812345678', 'IN')).toBe('+919812345678');
    expect(customerE164('09812345678', 'IN')).toBe('+919812345678'); // trunk prefix
    expect(customerE164('5551234567', 'US')).toBe('+15551234567');
  });
  it('keeps E.164 as it is and gives up on what is not a possible number', () => {
    expect(customerE164('+919812345678', null)).toBe('+919812345678');
    expect(customerE164('9812345678', null)).toBeNull();
    expect(customerE164('12345', 'IN')).toBeNull();
  });
});

describe('countryOf', () => {
  it('names the country of an E.164 number', () => {
    expect(countryOf('+919876543210')).toBe('IN');
    expect(countryOf('+14155550123')).toBe('US');
    expect(countryOf('56161')).toBeNull();
  });
});

describe('normalizeNumber and trunk prefixes', () => {
  it('does not read a leading 0 as a country code', () => {
    expect(normalizeNumber('09812345678')).toBe('09812345678');
    expect(normalizeNumber('919812345678')).toBe('+919812345678');
  });
});
