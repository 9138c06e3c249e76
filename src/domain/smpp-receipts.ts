/**
 * SPEC §8: SMPP delivery receipts, read without I/O. An SMSC reports on a submitted SMS with a
 * `deliver_sm` whose esm_class says "delivery receipt" (0x04) and whose text is, by SMPP 3.4
 * Appendix B's custom, `id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
 * stat:DDDDDDD err:E text:…`; SMPP 3.4 also names the TLVs receipted_message_id (0x001E) and
 * message_state (0x0427), which win when given.
 */

/** esm_class bits 2–5 = 0001: SMSC delivery receipt. */
export function isDeliveryReceipt(esmClass: number | undefined): boolean {
  return ((esmClass ?? 0) & 0x3c) === 0x04;
}

/** SMPP 3.4 §5.2.28 message_state → the status name a receipt's text would give. */
const MESSAGE_STATES: Record<number, string> = {
  1: 'ENROUTE', 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV', 6: 'ACCEPTD', 7: 'UNKNOWN', 8: 'REJECTD',
};

export type Receipt = {
  /** the SMSC's message id of the SMS (the part) reported on */
  messageId: string;
  status: string;
  errorCode: string | null;
  /** the `done date`, read as UTC; null when absent or unreadable */
  at: Date | null;
};

/** `YYMMDDhhmm` or `YYMMDDhhmmss`, as UTC (receipts carry no zone). */
export function receiptDate(raw: string | undefined): Date | null {
  const m = raw?.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/);
  if (!m) return null;
  const [yy, mo, dd, hh, mi, ss] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const d = new Date(Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss));
  return d.getUTCMonth() === mo - 1 && d.getUTCDate() === dd && hh < 24 && mi < 60 && ss < 60 ? d : null;
}

/**
 * The receipt a deliver_sm carries: its text's fields, the TLVs preferred where both are given.
 * Null when it names no message or no status.
 */
export function parseReceipt(text: string, tlvs: { receipted_message_id?: unknown; message_state?: unknown } = {}): Receipt | null {
  const fields: Record<string, string> = {};
  // Keys may hold a space ("submit date", "done date"); a value runs to the next space. `text:` is last and may hold anything.
  const body = text.split(/\btext:/i)[0] ?? '';
  for (const m of body.matchAll(/(id|sub|dlvrd|submit date|done date|stat|err):(\S*)/gi)) fields[m[1]!.toLowerCase()] = m[2]!;
  const tlvId = typeof tlvs.receipted_message_id === 'string' ? tlvs.receipted_message_id.replace(/\0+$/, '').trim() : '';
  const messageId = tlvId || (fields.id ?? '').trim();
  const state = typeof tlvs.message_state === 'number' ? MESSAGE_STATES[tlvs.message_state] : undefined;
  const status = (state ?? fields.stat ?? '').trim().toUpperCase();
  if (!messageId || !/^[A-Z][A-Z0-9_]{0,31}$/.test(status)) return null;
  const err = fields.err?.trim();
  return { messageId: messageId.slice(0, 100), status, errorCode: err && !/^0+$/.test(err) ? err.slice(0, 64) : null, at: receiptDate(fields['done date']) };
}
