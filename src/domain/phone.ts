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
