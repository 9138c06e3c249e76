import { describe, expect, it } from 'vitest';
import { decodeGsm, decodeUcs2, joinParts } from '../../src/domain/smpp-text.js';
import { gsmSeptets, smppAddress, splitForSubmit } from '../../src/domain/smpp-submit.js';

/** What a handset would read: the parts' UDH checked and split off, the bodies joined. */
function reassemble(parts: ReturnType<typeof splitForSubmit>): string {
  if (parts.length === 1) return parts[0]!.dataCoding === 8 ? decodeUcs2(parts[0]!.shortMessage).text : decodeGsm(parts[0]!.shortMessage).text;
  return joinParts(parts.map((p, i) => {
    const udh = [...p.shortMessage.subarray(0, 6)];
    expect(udh).toEqual([5, 0, 3, 42, parts.length, i + 1]);
    expect(p.esmClass).toBe(0x40);
    return { seq: i + 1, dataCoding: p.dataCoding, octets: p.shortMessage.subarray(6) };
  }), parts.length).text;
}

describe('splitForSubmit', () => {
  it('sends a GSM text of up to 160 septets as one submit_sm without UDH', () => {
    const text = 'a'.repeat(160);
    const parts = splitForSubmit(text, 42);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ esmClass: 0, dataCoding: 0 });
    expect(reassemble(parts)).toBe(text);
  });

  it('splits a 200-character GSM text into 153 + 47 septets behind an 8-bit reference UDH', () => {
    const text = 'x'.repeat(200);
    const parts = splitForSubmit(text, 42);
    expect(parts.map((p) => p.shortMessage.length - 6)).toEqual([153, 47]);
    expect(reassemble(parts)).toBe(text);
  });

  it('counts extension characters as two septets and never splits an escape', () => {
    expect(gsmSeptets('€[')!.flat()).toEqual([0x1b, 0x65, 0x1b, 0x3c]);
    // 80 € = 160 septets: too long for one SMS (160 is the limit of one, but escapes fill it past 153 per part)
    const text = 'a' + '€'.repeat(80);
    const parts = splitForSubmit(text, 42);
    expect(parts).toHaveLength(2);
    for (const p of parts) {
      const body = p.shortMessage.subarray(6);
      expect(body.length).toBeLessThanOrEqual(153);
      expect(body[body.length - 1]).not.toBe(0x1b);
    }
    expect(parts[0]!.shortMessage.length - 6).toBe(153);
    expect(reassemble(parts)).toBe(text);
  });

  it('uses UCS-2 when a character is not in GSM 03.38, 70 units alone and 67 per part, never splitting a surrogate pair', () => {
    expect(splitForSubmit('Привет', 1)[0]).toMatchObject({ dataCoding: 8, esmClass: 0 });
    expect(splitForSubmit('ж'.repeat(70), 1)).toHaveLength(1);
    const text = 'b'.repeat(66) + '😀' + 'ж'.repeat(10);
    const parts = splitForSubmit(text, 42);
    expect(parts).toHaveLength(2);
    expect(parts.map((p) => (p.shortMessage.length - 6) / 2)).toEqual([66, 12]);
    expect(reassemble(parts)).toBe(text);
  });

  it('keeps GSM characters that look like ASCII but are not ($, @, £) in the GSM table', () => {
    const parts = splitForSubmit('@£$ {x}', 0);
    expect(parts[0]!.dataCoding).toBe(0);
    expect(reassemble(parts)).toBe('@£$ {x}');
  });
});

describe('smppAddress', () => {
  it('sends international numbers without "+" as TON 1, short codes as TON 0, sender names as alphanumeric', () => {
    expect(smppAddress('+919812345678')).toEqual({ addr: '919812345678', ton: 1, npi: 1 });
    expect(smppAddress('56789')).toEqual({ addr: '56789', ton: 0, npi: 1 });
    expect(smppAddress('ACME')).toEqual({ addr: 'ACME', ton: 5, npi: 0 });
  });
});
