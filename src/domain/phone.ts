export type NumberKind = 'long_code' | 'short_code';

const E164 = /^\+[1-9]\d{7,14}$/;
const SHORT_CODE = /^\d{5,6}$/;

/**
 * Carriers write numbers many ways ("+91 98765 43210", "919876543210"). Stored numbers are
 * E.164 for long codes and bare digits for short codes; this brings input to that form.
 */
export function normalizeNumber(raw: string): string {
  const compact = raw.trim().replace(/[\s\-().]/g, '');
  if (compact.startsWith('00')) return `+${compact.slice(2)}`;
  if (/^\d{11,15}$/.test(compact)) return `+${compact}`;
  return compact;
}

export function numberKindProblem(number: string, kind: NumberKind): string | null {
  if (kind === 'long_code') return E164.test(number) ? null : 'a long code must be an E.164 number with its country code, like +919876543210';
  return SHORT_CODE.test(number) ? null : 'a short code must be 5 or 6 digits';
}

export function isPlausibleMsisdn(number: string): boolean {
  return E164.test(number) || /^\d{3,15}$/.test(number);
}

const NATIONAL = /^\d{10}$/;

/**
 * A 10-digit national number (as many carriers send MSISDNs) in E.164, with the country code
 * of a long code from the same country: ("9812345678", "+919876543210") → "+919812345678".
 * Null when either is not of that form.
 */
export function withCountryCodeOf(national: string, longCode: string): string | null {
  if (!NATIONAL.test(national) || !E164.test(longCode) || longCode.length < 12) return null;
  return `${longCode.slice(0, longCode.length - 10)}${national}`;
}

export function isE164(number: string): boolean {
  return E164.test(number);
}
