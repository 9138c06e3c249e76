import { normalizeNumber } from './phone.js';

/**
 * SPEC §5.2, "Sender IDs belong to one account". Two kinds of sender:
 * - alphanumeric (any letter in it: `ACMEBANK`, `HDFC1`): a brand, registered by one account
 *   only. Handsets and carriers do not tell `AcmeBank` from `ACMEBANK`, so neither do we:
 *   ownership is by the upper-case form, and one account holds one spelling of it.
 * - numeric (digits, `+` and the separators people write: `56161`, `+91 98123 45678`): a
 *   number, which the account may send from only while it holds it (number_accounts); on a
 *   shared short code every account on it does.
 */

/** What registration takes (`POST /v1/{sid}/sender-ids`): 3 to 15 letters or digits. */
export const SENDER_ID_REGISTRATION = /^[A-Za-z0-9]{3,15}$/;

/**
 * An alphanumeric sender ID as the operator routes take it in a path: letters and digits with
 * at least one letter (a numeric sender follows its number, so it is never reassigned).
 */
export const ALPHANUMERIC_SENDER_PATTERN = '^[0-9]*[A-Za-z][A-Za-z0-9]*$';

const SEPARATORS = /[\s\-().]/g;

export type SenderKind = 'alphanumeric' | 'numeric';

/**
 * A registration is stored as registration takes it (letters and digits), so a stored numeric
 * one is digits only: in SQL, `sender_id ~ '^[0-9]+$'` (migration 019's unique index says
 * `!~` for the alphanumeric ones, and the queries that want that index write it the same way).
 */
export function senderKind(sender: string): SenderKind {
  return /^\+?[0-9]+$/.test(sender.trim().replace(SEPARATORS, '')) ? 'numeric' : 'alphanumeric';
}

/** The number a numeric sender names, as numbers are stored (E.164, or a short code's digits). */
export function senderNumber(sender: string): string {
  return normalizeNumber(sender);
}
