/**
 * SPEC §8: SMPP delivery receipts, read without I/O. An SMSC reports on a submitted SMS with a
 * `deliver_sm` whose esm_class says "delivery receipt" (0x04) and whose text is, by SMPP 3.4
 * Appendix B's custom, `id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm
 * stat:DDDDDDD err:E text:…`; SMPP 3.4 also names the TLVs receipted_message_id (0x001E) and
 * message_state (0x0427), which win when given.
 */

/**
 * A receipt's text. Its fields are ASCII whatever the PDU's data_coding says: read as Latin-1
 * (GSM 03.38 would turn an id's `_` into `§`, `@` into `¡`), except UCS-2, which spells them in
 * two octets each.
 */
export function receiptText(octets: Uint8Array, dataCoding: number): string {
  const buf = Buffer.from(octets.buffer, octets.byteOffset, octets.byteLength);
  return dataCoding === 0x08 ? Buffer.from(buf).swap16().toString('utf16le') : buf.toString('latin1');
}

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
  /** every id the receipt gives, the TLV's first: each is tried (receiptIdLookups) */
  messageIds: string[];
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
  const textId = (fields.id ?? '').trim();
  const messageId = tlvId || textId;
  const state = typeof tlvs.message_state === 'number' ? MESSAGE_STATES[tlvs.message_state] : undefined;
  const status = (state ?? fields.stat ?? '').trim().toUpperCase();
  if (!messageId || !/^[A-Z][A-Z0-9_]{0,31}$/.test(status)) return null;
  const err = fields.err?.trim();
  const messageIds = [...new Set([tlvId, textId].filter((id) => id !== '').map((id) => id.slice(0, 100)))];
  return { messageId: messageId.slice(0, 100), messageIds, status, errorCode: err && !/^0+$/.test(err) ? err.slice(0, 64) : null, at: receiptDate(fields['done date']) };
}

/** Longest id still read as a number (hex or decimal) for matching; longer ones match as text only. */
const MAX_NUMERIC_ID = 40;
const text = (id: string) => id.trim().toLowerCase().replace(/^0+(?=.)/, '');

/**
 * The keys a submitted part's SMSC id (its submit_sm_resp message_id) is found by: itself
 * (`=`), case and leading zeros aside (`~`), its value read as decimal (`d:`) and as hex (`x:`).
 */
export function partIdKeys(id: string): string[] {
  const keys = new Set([`=${id}`, `~${text(id)}`]);
  const t = id.trim();
  if (t.length <= MAX_NUMERIC_ID && /^\d+$/.test(t)) keys.add(`d:${BigInt(t)}`);
  if (t.length <= MAX_NUMERIC_ID && /^[0-9a-f]+$/i.test(t)) keys.add(`x:${BigInt(`0x${t}`)}`);
  return [...keys];
}

/**
 * What a receipt is looked up by among partIdKeys, best first, for each id it gives (the
 * receipted_message_id TLV and the text's `id:`): the id itself; then case and leading zeros
 * aside; then the SMSC that answers submit_sm in hex and reports in decimal (the receipt's
 * decimal value among ids read as hex), or the other way round. A later tier is tried only
 * when the one before it found nothing, so a literal match always wins.
 */
export function receiptIdLookups(ids: string | readonly string[]): string[][] {
  const tiers: Set<string>[] = [new Set(), new Set(), new Set()];
  for (const id of typeof ids === 'string' ? [ids] : ids) {
    const t = id.trim();
    if (t === '') continue;
    tiers[0]!.add(`=${id}`);
    tiers[1]!.add(`~${text(id)}`);
    if (t.length <= MAX_NUMERIC_ID && /^\d+$/.test(t)) tiers[2]!.add(`x:${BigInt(t)}`);
    if (t.length <= MAX_NUMERIC_ID && /^[0-9a-f]+$/i.test(t)) tiers[2]!.add(`d:${BigInt(`0x${t}`)}`);
  }
  return tiers.map((tier) => [...tier]);
}

/** Which lookup tier (0 best) finds `partId` for a receipt's ids; null when none does. */
export function receiptMatchTier(receiptIds: string | readonly string[], partId: string): number | null {
  const keys = new Set(partIdKeys(partId));
  const tier = receiptIdLookups(receiptIds).findIndex((lookup) => lookup.some((k) => keys.has(k)));
  return tier < 0 ? null : tier;
}

/**
 * Which of an SMS's part ids (its submit_sm_resp ids, '' for one the SMSC gave none) a receipt
 * names: the one its ids match at the best tier; '' when none does (the receipt is then taken
 * for the whole SMS). Read from all the parts, whatever tier found the SMS: its part ids may
 * have been recorded between one lookup tier and the next.
 */
export function receiptPart(receiptIds: readonly string[], partIds: readonly string[]): string {
  let best: { part: string; tier: number } | null = null;
  for (const part of partIds) {
    if (part === '') continue;
    const tier = receiptMatchTier(receiptIds, part);
    if (tier !== null && (best === null || tier < best.tier)) best = { part, tier };
  }
  return best?.part ?? '';
}
