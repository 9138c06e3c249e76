/**
 * SPEC §8: what an SMPP `deliver_sm` carries, read without I/O. The octets of a message are
 * decoded by its `data_coding` (GSM 03.38 with its extension table, IA5, Latin-1, UCS-2, …);
 * concatenated MOs are recognised from their UDH (8- and 16-bit references) or SAR TLVs, and
 * joined from the octets of their parts, so a UCS-2 surrogate pair or a GSM escape that a
 * handset split across two parts still reads as one character.
 */

// GSM 03.38 default alphabet, one septet per octet as SMPP carries it (0x1B is the escape).
const GSM_DEFAULT =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// The extension table, reached by 0x1B: the septet that follows → its character.
const GSM_EXTENSION: Record<number, string> = {
  0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€',
};

export type Decoded = { text: string; notes: string[] };

export function decodeGsm(octets: Uint8Array): Decoded {
  const notes: string[] = [];
  let text = '';
  let odd = 0;
  for (let i = 0; i < octets.length; i++) {
    const b = octets[i]!;
    if (b > 0x7f) {
      odd++;
      text += '?';
    } else if (b === 0x1b) {
      const next = octets[i + 1];
      if (next === undefined) break; // a lone escape at the very end: nothing to show
      i++;
      // 23.038: an escape to an undefined extension character shows the default one.
      text += GSM_EXTENSION[next] ?? (next <= 0x7f && next !== 0x1b ? GSM_DEFAULT[next]! : ' ');
    } else {
      text += GSM_DEFAULT[b]!;
    }
  }
  if (odd) notes.push(`${odd} octet(s) above 0x7F in a GSM 03.38 text, shown as "?"`);
  return { text, notes };
}

export function decodeUcs2(octets: Uint8Array): Decoded {
  const notes: string[] = [];
  let bytes = octets;
  if (bytes.length % 2 === 1) {
    notes.push('UCS-2 text of an odd length: its last octet was dropped');
    bytes = bytes.subarray(0, bytes.length - 1);
  }
  // UTF-16BE: UCS-2 as handsets send it today, surrogate pairs (emoji) included.
  return { text: new TextDecoder('utf-16be').decode(bytes), notes };
}

export function decodeLatin1(octets: Uint8Array): Decoded {
  // ISO-8859-1 proper (TextDecoder's 'latin1' is windows-1252).
  return { text: Buffer.from(octets.buffer, octets.byteOffset, octets.byteLength).toString('latin1'), notes: [] };
}

/**
 * SMPP 3.4 §5.2.19 data_coding: 0 SMSC default (GSM 03.38, unpacked), 1 IA5/ASCII, 3 Latin-1,
 * 8 UCS-2, 6 Cyrillic, 7 Hebrew; 2 and 4 are binary. The GSM 03.38 DCS groups some SMSCs
 * pass through (0x10–0x3F, 0xF0–0xFF) are read by their alphabet bits. Anything else is read
 * as GSM, with a note: an MO is stored as best it can be, never refused for its coding.
 */
export function decodeText(octets: Uint8Array, dataCoding: number): Decoded {
  const d = decodeByCoding(octets, dataCoding);
  // PostgreSQL text cannot hold U+0000; an MO must not become unstorable for one octet.
  if (d.text.includes('\u0000')) {
    return { text: d.text.replace(/\u0000/g, '\ufffd'), notes: [...d.notes, 'NUL characters replaced by U+FFFD'] };
  }
  return d;
}

function decodeByCoding(octets: Uint8Array, dc: number): Decoded {
  switch (dc) {
    case 0x00: return decodeGsm(octets);
    case 0x01: case 0x03: return decodeLatin1(octets); // IA5 is ASCII, which Latin-1 extends
    case 0x08: return decodeUcs2(octets);
    case 0x06: return { text: new TextDecoder('iso-8859-5').decode(octets), notes: [] };
    case 0x07: return { text: new TextDecoder('iso-8859-8').decode(octets), notes: [] };
    case 0x02: case 0x04: return withNote(decodeLatin1(octets), `binary data_coding ${dc} read as Latin-1`);
  }
  if ((dc & 0xf0) === 0xf0) return dc & 0x04 ? withNote(decodeLatin1(octets), `8-bit data_coding 0x${hex(dc)} read as Latin-1`) : decodeGsm(octets);
  if ((dc & 0xc0) === 0x00 && dc >= 0x10) {
    if (dc & 0x20) return withNote(decodeLatin1(octets), `compressed data_coding 0x${hex(dc)} cannot be read; read as Latin-1`);
    const alphabet = (dc >> 2) & 0x03;
    if (alphabet === 2) return decodeUcs2(octets);
    if (alphabet === 1) return withNote(decodeLatin1(octets), `8-bit data_coding 0x${hex(dc)} read as Latin-1`);
    return decodeGsm(octets);
  }
  return withNote(decodeGsm(octets), `unknown data_coding 0x${hex(dc)} read as GSM 03.38`);
}

const hex = (n: number) => n.toString(16).padStart(2, '0');
const withNote = (d: Decoded, note: string): Decoded => ({ text: d.text, notes: [...d.notes, note] });

/** One part of a concatenated MO: `ref` names the message among the sender's others. */
export type Concat = { ref: string; total: number; seq: number };

/** esm_class bit 6 (0x40): short_message (or message_payload) begins with a UDH. */
export const ESM_UDHI = 0x40;
/** esm_class bits 2–5: a delivery receipt, an SME acknowledgement, an intermediate notification… not an MO. */
export const ESM_MESSAGE_TYPE = 0x3c;

/**
 * Splits a UDH off the octets and reads its concatenation element, if any: IEI 0x00 (8-bit
 * reference) or 0x08 (16-bit). A header that runs past the octets is not a header: the
 * octets are kept whole as text, with a note.
 */
export function splitUdh(octets: Uint8Array): { body: Uint8Array; concat: Concat | null; notes: string[] } {
  const udhl = octets[0];
  if (udhl === undefined || udhl + 1 > octets.length) {
    return { body: octets, concat: null, notes: ['UDH indicator set but no readable UDH; the octets are read as text'] };
  }
  let concat: Concat | null = null;
  for (let i = 1; i + 1 < udhl + 1; ) {
    const iei = octets[i]!;
    const len = octets[i + 1]!;
    const data = octets.subarray(i + 2, i + 2 + len);
    if (data.length < len) break;
    if (iei === 0x00 && len === 3) concat = validConcat(`u8:${data[0]}`, data[1]!, data[2]!);
    if (iei === 0x08 && len === 4) concat = validConcat(`u16:${(data[0]! << 8) | data[1]!}`, data[2]!, data[3]!);
    i += 2 + len;
  }
  return { body: octets.subarray(udhl + 1), concat, notes: [] };
}

/** SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum), all three or none. */
export function sarConcat(ref: unknown, total: unknown, seq: unknown): Concat | null {
  if (typeof ref !== 'number' || typeof total !== 'number' || typeof seq !== 'number') return null;
  return validConcat(`sar:${ref}`, total, seq);
}

function validConcat(ref: string, total: number, seq: number): Concat | null {
  // A single-part "concatenation" is a plain MO; a nonsensical one is read as one too.
  if (total < 2 || seq < 1 || seq > total) return null;
  return { ref, total, seq };
}

/** SMPP addresses with TON 1 (international) come without their "+". */
export function smppNumber(addr: string, ton: number | undefined): string {
  const a = addr.trim();
  return ton === 1 && /^\d+$/.test(a) ? `+${a}` : a;
}

/** What a `deliver_sm` carries, as far as its MO is concerned. */
export type DeliverSmFields = {
  esm_class?: number; data_coding?: number; short_message?: unknown; message_payload?: unknown;
  sar_msg_ref_num?: unknown; sar_total_segments?: unknown; sar_segment_seqnum?: unknown;
};

export type MoPart = { dataCoding: number; octets: Uint8Array; concat: Concat | null; notes: string[] };

/** Whether a deliver_sm carries an MO at all (not a delivery receipt or an acknowledgement). */
export function isMo(esmClass: number | undefined): boolean {
  return ((esmClass ?? 0) & ESM_MESSAGE_TYPE) === 0;
}

/** The octets (message_payload when given, else short_message) with any UDH split off, and the concatenation they belong to. */
export function readDeliverSm(pdu: DeliverSmFields): MoPart {
  const payload = asOctets(pdu.message_payload);
  let octets = payload && payload.length > 0 ? payload : (asOctets(pdu.short_message) ?? new Uint8Array());
  let concat: Concat | null = null;
  const notes: string[] = [];
  if ((pdu.esm_class ?? 0) & ESM_UDHI) {
    const udh = splitUdh(octets);
    octets = udh.body;
    concat = udh.concat;
    notes.push(...udh.notes);
  }
  concat ??= sarConcat(pdu.sar_msg_ref_num, pdu.sar_total_segments, pdu.sar_segment_seqnum);
  return { dataCoding: pdu.data_coding ?? 0, octets, concat, notes };
}

function asOctets(v: unknown): Uint8Array | null {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  return null;
}

export type StoredPart = { seq: number; dataCoding: number; octets: Uint8Array };

/**
 * Joins a concatenated MO from the parts that arrived: the first of each sequence number, in
 * order. Consecutive parts in one coding are decoded together, so a character split across
 * them is whole again; a missing part ends a run (nothing is guessed in its place) and is named
 * in the notes. Complete when no part is missing.
 */
export function joinParts(parts: StoredPart[], total: number): { text: string; missing: number[]; notes: string[] } {
  const bySeq = new Map<number, StoredPart>();
  for (const p of parts) if (!bySeq.has(p.seq)) bySeq.set(p.seq, p);
  const missing: number[] = [];
  const notes: string[] = [];
  let text = '';
  let run: StoredPart[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const octets = Buffer.concat(run.map((p) => p.octets));
    const d = decodeText(octets, run[0]!.dataCoding);
    text += d.text;
    for (const n of d.notes) if (!notes.includes(n)) notes.push(n);
    run = [];
  };
  for (let seq = 1; seq <= total; seq++) {
    const p = bySeq.get(seq);
    if (!p) {
      missing.push(seq);
      flush();
      continue;
    }
    if (run.length > 0 && run[0]!.dataCoding !== p.dataCoding) flush();
    run.push(p);
  }
  flush();
  if (missing.length > 0) notes.push(`concatenated MO of ${total} parts stored without part(s) ${missing.join(', ')}, which never came`);
  return { text, missing, notes };
}

/** The longest MO text stored, as over HTTP (ingest's `message`, SPEC §5). */
export const MAX_MO_TEXT = 5000;

/**
 * A text longer than an MO may be (a message_payload, a long MO of many parts) is cut, not
 * refused (SPEC §5), with a note; a surrogate pair is never split.
 */
export function fitMoText(d: { text: string; notes: string[] }): { text: string; notes: string[] } {
  if (d.text.length <= MAX_MO_TEXT) return d;
  let text = d.text.slice(0, MAX_MO_TEXT);
  if (/[\ud800-\udbff]$/.test(text)) text = text.slice(0, -1);
  return { text, notes: [...d.notes, `text of ${d.text.length} UTF-16 units cut to ${text.length}`] };
}
