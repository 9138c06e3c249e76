import { describe, expect, it } from 'vitest';
import { decodeGsm, decodeText, fitMoText, isMo, joinParts, readDeliverSm, sarConcat, smppNumber, splitUdh } from '../../src/domain/smpp-text.js';

const b = (...xs: number[]) => Uint8Array.from(xs);
const ucs2 = (s: string) => Buffer.from(s, 'utf16le').swap16();

describe('decoding by data_coding', () => {
  it('reads GSM 03.38 with the extension table', () => {
    // "@£$ Hi" then ESC-e (€), ESC-( ({), ESC-< ([) and Ä, ü
    expect(decodeGsm(b(0x00, 0x01, 0x02, 0x20, 0x48, 0x69, 0x1b, 0x65, 0x1b, 0x28, 0x1b, 0x3c, 0x5b, 0x7e)).text).toBe('@£$ Hi€{[Äü');
    expect(decodeText(b(0x1b, 0x14, 0x1b, 0x2f, 0x1b, 0x40, 0x1b, 0x3d, 0x1b, 0x29, 0x1b, 0x3e), 0).text).toBe('^\\|~}]');
  });

  it('shows the default character for an undefined escape, drops a lone trailing escape, notes octets above 0x7F', () => {
    expect(decodeGsm(b(0x1b, 0x41, 0x42, 0x1b)).text).toBe('AB');
    const odd = decodeGsm(b(0x41, 0x90));
    expect(odd.text).toBe('A?');
    expect(odd.notes[0]).toMatch(/above 0x7F/);
  });

  it('reads UCS-2 as UTF-16BE, emoji (surrogate pairs) included', () => {
    expect(decodeText(ucs2('नमस्ते 😀 ok'), 8)).toEqual({ text: 'नमस्ते 😀 ok', notes: [] });
    const odd = decodeText(Buffer.concat([ucs2('hi'), b(0x00)]), 8);
    expect(odd.text).toBe('hi');
    expect(odd.notes[0]).toMatch(/odd length/);
  });

  it('reads IA5 as ASCII and Latin-1 as ISO-8859-1 (not windows-1252)', () => {
    expect(decodeText(Buffer.from('a@b_$', 'latin1'), 1).text).toBe('a@b_$');
    expect(decodeText(b(0x63, 0x61, 0x66, 0xe9, 0x80), 3).text).toBe('café\u0080');
  });

  it('reads GSM DCS groups and notes what it cannot read exactly', () => {
    expect(decodeText(ucs2('Ω'), 0x18).text).toBe('Ω'); // general group, UCS-2 alphabet
    expect(decodeText(b(0x48, 0x49), 0xf0).text).toBe('HI'); // message class group, GSM
    expect(decodeText(b(0x48), 0x04).notes[0]).toMatch(/binary/);
    expect(decodeText(b(0x48), 0x0b).notes[0]).toMatch(/unknown data_coding 0x0b/);
  });

  it('never yields a NUL, which PostgreSQL cannot store', () => {
    const d = decodeText(b(0x41, 0x00, 0x42), 3);
    expect(d.text).toBe('A\ufffdB');
    expect(d.notes).toContain('NUL characters replaced by U+FFFD');
  });
});

describe('concatenation', () => {
  it('reads the 8- and 16-bit UDH concatenation elements', () => {
    expect(splitUdh(b(0x05, 0x00, 0x03, 0x2a, 0x03, 0x02, 0x41))).toEqual({ body: b(0x41), concat: { ref: 'u8:42', total: 3, seq: 2 }, notes: [] });
    expect(splitUdh(b(0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01, 0x41)).concat).toEqual({ ref: 'u16:4660', total: 2, seq: 1 });
    // another element (a port address) beside the concatenation one
    expect(splitUdh(b(0x0b, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x00, 0x03, 0x07, 0x02, 0x02, 0x41)).concat).toEqual({ ref: 'u8:7', total: 2, seq: 2 });
  });

  it('keeps octets whole when the UDH cannot be read, and treats 1-part or out-of-range as single', () => {
    expect(splitUdh(b(0x09, 0x41)).concat).toBeNull();
    expect(splitUdh(b(0x09, 0x41)).body).toEqual(b(0x09, 0x41));
    expect(splitUdh(b(0x05, 0x00, 0x03, 0x01, 0x01, 0x01)).concat).toBeNull();
    expect(splitUdh(b(0x05, 0x00, 0x03, 0x01, 0x02, 0x03)).concat).toBeNull();
  });

  it('reads SAR TLVs when all three are there', () => {
    expect(sarConcat(513, 3, 1)).toEqual({ ref: 'sar:513', total: 3, seq: 1 });
    expect(sarConcat(513, undefined, 1)).toBeNull();
  });

  it('reads a deliver_sm: message_payload over short_message, UDH only with UDHI, SAR otherwise', () => {
    expect(readDeliverSm({ esm_class: 0x40, data_coding: 0, short_message: Buffer.from([0x05, 0x00, 0x03, 0x09, 0x02, 0x01, 0x48]) }))
      .toEqual({ dataCoding: 0, octets: Buffer.from([0x48]), concat: { ref: 'u8:9', total: 2, seq: 1 }, notes: [] });
    expect(readDeliverSm({ esm_class: 0, short_message: Buffer.from([0x05, 0x00]) }).concat).toBeNull();
    const sar = readDeliverSm({ data_coding: 8, short_message: Buffer.alloc(0), message_payload: ucs2('hi'), sar_msg_ref_num: 1, sar_total_segments: 2, sar_segment_seqnum: 2 });
    expect(sar.concat).toEqual({ ref: 'sar:1', total: 2, seq: 2 });
    expect(decodeText(sar.octets, sar.dataCoding).text).toBe('hi');
  });

  it('tells MOs from delivery receipts and acknowledgements by esm_class', () => {
    expect(isMo(0x00)).toBe(true);
    expect(isMo(0x40)).toBe(true);
    expect(isMo(0x04)).toBe(false);
    expect(isMo(0x08)).toBe(false);
    expect(isMo(0x20)).toBe(false);
  });

  it('joins the octets of the parts, so a surrogate pair or a GSM escape split across parts is whole', () => {
    const all = ucs2('ab😀cd');
    const parts = [
      { seq: 2, dataCoding: 8, octets: all.subarray(6, 12) }, // low surrogate, c, d
      { seq: 1, dataCoding: 8, octets: all.subarray(0, 6) }, // a, b, high surrogate
    ];
    expect(joinParts(parts, 2)).toEqual({ text: 'ab😀cd', missing: [], notes: [] });
    expect(joinParts([{ seq: 1, dataCoding: 0, octets: b(0x41, 0x1b) }, { seq: 2, dataCoding: 0, octets: b(0x65, 0x42) }], 2).text).toBe('A€B');
  });

  it('joins what arrived, in order, naming the missing parts, and takes the first of a repeated part', () => {
    const r = joinParts([
      { seq: 3, dataCoding: 0, octets: b(0x43) },
      { seq: 1, dataCoding: 0, octets: b(0x41) },
      { seq: 1, dataCoding: 0, octets: b(0x58) },
    ], 4);
    expect(r.text).toBe('AC');
    expect(r.missing).toEqual([2, 4]);
    expect(r.notes).toEqual(['concatenated MO of 4 parts stored without part(s) 2, 4, which never came']);
  });

  it('decodes parts of different codings each by its own', () => {
    expect(joinParts([{ seq: 1, dataCoding: 0, octets: b(0x41) }, { seq: 2, dataCoding: 8, octets: ucs2('😀') }], 2).text).toBe('A😀');
  });
});

describe('addresses', () => {
  it('gives an international (TON 1) number its "+", and leaves the others as they came', () => {
    expect(smppNumber('919812345678', 1)).toBe('+919812345678');
    expect(smppNumber('+919812345678', 1)).toBe('+919812345678');
    expect(smppNumber('56789', 3)).toBe('56789');
    expect(smppNumber('ACME', 5)).toBe('ACME');
  });
});

describe('length', () => {
  it('cuts a text longer than an MO may be, with a note, never inside a surrogate pair', () => {
    expect(fitMoText({ text: 'short', notes: [] })).toEqual({ text: 'short', notes: [] });
    const long = fitMoText({ text: 'a'.repeat(4999) + '😀' + 'b', notes: ['x'] });
    expect(long.text).toBe('a'.repeat(4999));
    expect(long.notes).toEqual(['x', 'text of 5002 UTF-16 units cut to 4999']);
  });
});
