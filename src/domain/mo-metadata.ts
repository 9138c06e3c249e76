import { createHash } from 'node:crypto';

/** SPEC §5: a carrier id of up to this many printable characters is kept as it came. */
export const MAX_CARRIER_ID = 256;
/** Longer `operator` and `circle` values are cut to this length. */
export const MAX_LABEL = 100;

export type MoMetadata = {
  /** the carrier id to store, or null when the MO came without one */
  id: string | null;
  operator: string | null;
  circle: string | null;
  /** when the customer sent it, as far as the carrier says; null: take the arrival time */
  receivedAt: Date | null;
  /** what was odd about the metadata and what was done about it, stored with the MO */
  notes: string[];
};

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// 2026-04-17T13:05:20Z, 2026-04-17 13:05:20 (Kaleyra's, UTC), fractions, offsets as +05:30,
// +0530 or +05, and " 05:30" where a GET URL's unescaped "+" was read as a space.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(Z|[+\- ]\d{2}(?::?\d{2})?)?$/i;

/**
 * SPEC §5, never refuse an MO for its metadata: reads what a carrier sent beside the message,
 * keeping what it can and noting the rest. A carrier id too long or not printable is kept as
 * its SHA-256 (so the carrier's retries still find it); over-long labels are cut; a time that
 * cannot be read (or lies in the future) gives way to the arrival time.
 */
export function readMoMetadata(raw: { id?: unknown; operator?: unknown; circle?: unknown; received_at?: unknown }, now: Date): MoMetadata {
  const notes: string[] = [];
  return {
    id: carrierId(raw.id, notes),
    operator: label('operator', raw.operator, notes),
    circle: label('circle', raw.circle, notes),
    receivedAt: receivedAt(raw.received_at, now, notes),
    notes,
  };
}

function carrierId(raw: unknown, notes: string[]): string | null {
  if (raw === undefined || raw === null) return null;
  const id = String(raw).trim();
  if (id === '') {
    notes.push('id: empty; the service made one');
    return null;
  }
  const why = id.length > MAX_CARRIER_ID ? `over ${MAX_CARRIER_ID} characters` : CONTROL.test(id) ? 'holds control characters' : null;
  if (!why) return id;
  notes.push(`id: ${why}; kept as its SHA-256`);
  return `sha256-${createHash('sha256').update(id).digest('hex')}`;
}

function label(field: string, raw: unknown, notes: string[]): string | null {
  if (raw === undefined || raw === null) return null;
  const value = String(raw).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim();
  if (value.length <= MAX_LABEL) return value || null;
  notes.push(`${field}: cut to ${MAX_LABEL} of its ${value.length} characters`);
  return value.slice(0, MAX_LABEL);
}

function receivedAt(raw: unknown, now: Date, notes: string[]): Date | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const text = String(raw).trim();
  const at = parseCarrierTime(text);
  if (!at) {
    notes.push(`received_at: ${JSON.stringify(text.slice(0, 64))} is not a date-time; the arrival time is used`);
    return null;
  }
  // A carrier's clock may run ahead; a time in the future would win every later opt-in or
  // opt-out of this customer.
  if (at.getTime() > now.getTime()) {
    notes.push('received_at: in the future; the arrival time is used');
    return null;
  }
  return at;
}

/** ISO-8601 or Kaleyra's `YYYY-MM-DD HH:MM:SS`; without an offset the time is UTC. */
export function parseCarrierTime(text: string): Date | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s, Math.floor(Number(`0${frac || '.0'}`) * 1000));
  const check = new Date(ms);
  // 2026-02-30 rolls over into March: not a date.
  if (check.getUTCFullYear() !== +y! || check.getUTCMonth() !== +mo! - 1 || check.getUTCDate() !== +d! || +h! > 23 || +mi! > 59 || +s > 59) return null;
  if (!zone || zone.toUpperCase() === 'Z') return check;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * sign;
  if (Math.abs(offset) > 14 * 60) return null;
  return new Date(ms - offset * 60_000);
}
