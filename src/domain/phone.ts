import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

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
  // 11-15 digits with a country code; a leading 0 is a national trunk prefix, not a country.
  if (/^[1-9]\d{10,14}$/.test(compact)) return `+${compact}`;
  return compact;
}

export function numberKindProblem(number: string, kind: NumberKind): string | null {
  if (kind === 'long_code') return E164.test(number) ? null : 'a long code must be an E.164 number with its country code, like +919876543210';
  return SHORT_CODE.test(number) ? null : 'a short code must be 5 or 6 digits';
}

export function isPlausibleMsisdn(number: string): boolean {
  return E164.test(number) || /^\d{3,15}$/.test(number);
}

/** The ISO country of an E.164 number ("+919876543210" → "IN"), when it is a known one. */
export function countryOf(e164: string): string | null {
  return E164.test(e164) ? (parsePhoneNumberFromString(e164)?.country ?? null) : null;
}

/**
 * A customer's number in E.164, reading a national form ("9812345678", "09812345678") as a
 * number of `country`. Null when it cannot be read as a possible number there: it is then
 * kept as the carrier wrote it.
 */
export function customerE164(number: string, country: string | null): string | null {
  if (E164.test(number)) return number;
  if (!country || !/^\d{4,15}$/.test(number)) return null;
  const parsed = parsePhoneNumberFromString(number, country as CountryCode);
  return parsed?.isPossible() ? parsed.number : null;
}

export function isE164(number: string): boolean {
  return E164.test(number);
}
