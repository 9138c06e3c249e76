/**
 * SPEC §8, SMPP as an SMS provider: how an SMS becomes `submit_sm` PDUs, without I/O. GSM 03.38
 * (data_coding 0, one septet per octet as SMPP carries it) when every character is in the GSM
 * table or its extension (an extension character costs two septets), else UCS-2 (data_coding 8,
 * UTF-16BE). A text longer than one SMS is split into parts behind a UDH with an 8-bit
 * concatenation reference: 153 septets or 67 UTF-16 units each, never splitting a GSM escape
 * or a surrogate pair.
 */

const GSM_DEFAULT =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION: Record<string, number> = {
  '\f': 0x0a, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2f, '[': 0x3c, '~': 0x3d, ']': 0x3e, '|': 0x40, '€': 0x65,
};
const GSM_INDEX = new Map<string, number>([...GSM_DEFAULT].map((c, i) => [c, i] as [string, number]).filter(([c]) => c !== '\u001b'));

export const DATA_CODING_GSM = 0x00;
export const DATA_CODING_UCS2 = 0x08;
export const ESM_CLASS_UDHI = 0x40;

/** One SMS's septets per part: 160 alone, 153 behind a 6-octet UDH; UCS-2: 70 / 67 UTF-16 units. */
const LIMITS = { gsm: { single: 160, part: 153 }, ucs2: { single: 70, part: 67 } } as const;

/** The septets of a text in GSM 03.38 (unpacked), each character's septets kept together; null when a character is not in the table. */
export function gsmSeptets(text: string): number[][] | null {
  const out: number[][] = [];
  for (const ch of text) {
    const base = GSM_INDEX.get(ch);
    if (base !== undefined) out.push([base]);
    else if (GSM_EXTENSION[ch] !== undefined) out.push([0x1b, GSM_EXTENSION[ch]!]);
    else return null;
  }
  return out;
}

/** The UTF-16 code units of a text, a surrogate pair kept together. */
function ucs2Units(text: string): number[][] {
  return [...text].map((ch) => Array.from({ length: ch.length }, (_, i) => ch.charCodeAt(i)));
}

/** Packs whole characters (each a group of units) into chunks of at most `max` units. */
function chunk(groups: number[][], max: number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  for (const g of groups) {
    if (current.length + g.length > max) {
      chunks.push(current);
      current = [];
    }
    current.push(...g);
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return chunks;
}

export type SubmitPart = { esmClass: number; dataCoding: number; shortMessage: Uint8Array };

/**
 * The submit_sm bodies of one SMS. `ref` is the concatenation reference (0–255) its parts
 * share, used only when it needs more than one; more than 255 parts cannot be said in UDH.
 */
export function splitForSubmit(text: string, ref: number): SubmitPart[] {
  const septets = gsmSeptets(text);
  const kind = septets ? 'gsm' : 'ucs2';
  const groups = septets ?? ucs2Units(text);
  const units = groups.reduce((n, g) => n + g.length, 0);
  const toOctets = (chunkUnits: number[]) =>
    kind === 'gsm' ? Uint8Array.from(chunkUnits) : Uint8Array.from(chunkUnits.flatMap((u) => [u >> 8, u & 0xff]));
  const dataCoding = kind === 'gsm' ? DATA_CODING_GSM : DATA_CODING_UCS2;
  if (units <= LIMITS[kind].single) return [{ esmClass: 0, dataCoding, shortMessage: toOctets(groups.flat()) }];
  const chunks = chunk(groups, LIMITS[kind].part);
  if (chunks.length > 255) throw new RangeError(`an SMS of ${chunks.length} parts cannot be concatenated (255 at most)`);
  return chunks.map((c, i) => {
    const udh = [0x05, 0x00, 0x03, ref & 0xff, chunks.length, i + 1];
    return { esmClass: ESM_CLASS_UDHI, dataCoding, shortMessage: Uint8Array.from([...udh, ...toOctets(c)]) };
  });
}

/**
 * An SMPP address from a sender or recipient: "+digits" international (TON 1, NPI 1, sent
 * without its "+"), other digits unknown TON with ISDN numbering, anything else alphanumeric
 * (TON 5, NPI 0).
 */
export function smppAddress(addr: string): { addr: string; ton: number; npi: number } {
  const a = addr.trim();
  if (/^\+\d+$/.test(a)) return { addr: a.slice(1), ton: 1, npi: 1 };
  if (/^\d+$/.test(a)) return { addr: a, ton: 0, npi: 1 };
  return { addr: a, ton: 5, npi: 0 };
}
