import { describe, expect, it } from 'vitest';
import { isDeliveryReceipt, parseReceipt, partIdKeys, receiptDate, receiptIdLookups, receiptMatchTier, receiptPart, receiptText } from '../../src/domain/smpp-receipts.js';

describe('parseReceipt', () => {
  it('reads the SMPP 3.4 Appendix B text', () => {
    const r = parseReceipt('id:0a1b2c sub:001 dlvrd:001 submit date:2612010341 done date:2612010342 stat:DELIVRD err:000 text:hello world');
    expect(r).toEqual({ messageId: '0a1b2c', messageIds: ['0a1b2c'], status: 'DELIVRD', errorCode: null, at: new Date('2026-12-01T03:42:00Z') });
  });

  it('keeps a non-zero error code and reads seconds in dates', () => {
    const r = parseReceipt('id:77 sub:001 dlvrd:000 submit date:261201034105 done date:261201034210 stat:UNDELIV err:069 text:');
    expect(r).toMatchObject({ messageId: '77', status: 'UNDELIV', errorCode: '069', at: new Date('2026-12-01T03:42:10Z') });
  });

  it('prefers the receipted_message_id and message_state TLVs', () => {
    expect(parseReceipt('id:1 stat:ENROUTE', { receipted_message_id: 'abc', message_state: 2 })).toMatchObject({ messageId: 'abc', status: 'DELIVRD' });
    expect(parseReceipt('', { receipted_message_id: 'abc', message_state: 5 })).toMatchObject({ messageId: 'abc', status: 'UNDELIV' });
  });

  it('gives both ids when the TLV and the text disagree, the TLV first', () => {
    expect(parseReceipt('id:0012 stat:DELIVRD', { receipted_message_id: 'c\0' })).toMatchObject({ messageId: 'c', messageIds: ['c', '0012'] });
  });

  it('does not read fields out of the echoed text', () => {
    expect(parseReceipt('id:9 stat:DELIVRD err:000 text:stat:UNDELIV id:1')).toMatchObject({ messageId: '9', status: 'DELIVRD' });
  });

  it('is null without a message id or a status', () => {
    expect(parseReceipt('stat:DELIVRD')).toBeNull();
    expect(parseReceipt('id:1 sub:001')).toBeNull();
    expect(parseReceipt('hello')).toBeNull();
  });

  it('gives no date for an unreadable one', () => {
    expect(receiptDate('2613011200')).toBeNull();
    expect(receiptDate('yesterday')).toBeNull();
    expect(receiptDate(undefined)).toBeNull();
  });
});

describe('isDeliveryReceipt', () => {
  it('is esm_class message type 0001 only', () => {
    expect(isDeliveryReceipt(0x04)).toBe(true);
    expect(isDeliveryReceipt(0x44)).toBe(true);
    expect(isDeliveryReceipt(0x08)).toBe(false);
    expect(isDeliveryReceipt(0x00)).toBe(false);
    expect(isDeliveryReceipt(undefined)).toBe(false);
  });
});

describe('receiptText', () => {
  it('reads the text as Latin-1 whatever the data_coding says, so an id keeps its _ and @ (GSM would make them § and ¡)', () => {
    const text = 'id:mo-abc_1@x sub:001 dlvrd:001 submit date:2612010340 done date:2612010341 stat:REJECTD err:000 text:';
    const octets = Buffer.from(text, 'latin1');
    expect(receiptText(octets, 0)).toBe(text);
    expect(parseReceipt(receiptText(octets, 0))).toMatchObject({ messageId: 'mo-abc_1@x', status: 'REJECTD' });
    expect(receiptText(octets, 3)).toBe(text);
  });

  it('reads UCS-2 receipts as UCS-2', () => {
    expect(receiptText(Buffer.from('id:7 stat:DELIVRD', 'utf16le').swap16(), 8)).toBe('id:7 stat:DELIVRD');
  });
});

describe('matching a receipt to a part id', () => {
  it('finds the id as it is first, then case and leading zeros aside, then hex read as decimal and back', () => {
    expect(receiptMatchTier('A1B2', 'A1B2')).toBe(0);
    expect(receiptMatchTier('a1b2', 'A1B2')).toBe(1);
    expect(receiptMatchTier('0000012345', '12345')).toBe(1);
    // submit_sm_resp in hex, the receipt in decimal, and the other way round
    expect(receiptMatchTier(String(0x1a2b3c), '1a2b3c')).toBe(2);
    expect(receiptMatchTier('1A2B3C', String(0x1a2b3c))).toBe(2);
    expect(receiptMatchTier('12346', '12345')).toBeNull();
    expect(receiptMatchTier('mo-abc', 'mo-abd')).toBeNull();
  });

  it('tries every id the receipt gives, tier by tier', () => {
    expect(receiptIdLookups(['c', '0012'])).toEqual([['=c', '=0012'], ['~c', '~12'], ['d:12', 'x:12', 'd:18']]);
    expect(receiptMatchTier(['nope', '0012'], '12')).toBe(1);
  });

  it('names the part the receipt matches best, whichever tier found its SMS', () => {
    // A receipt for part 2 whose SMS was found by the case-blind tier (its exact id recorded
    // between the two lookups) still names part 2, not the whole SMS.
    expect(receiptPart(['smsc-2'], ['smsc-1', 'smsc-2'])).toBe('smsc-2');
    // The literal id wins over another part's looser match; a part without an id is never named.
    expect(receiptPart(['0A'], ['10', '0a', '0A'])).toBe('0A');
    expect(receiptPart(['12'], ['', '0012'])).toBe('0012');
    expect(receiptPart(['nope'], ['smsc-1', ''])).toBe('');
  });

  it('keys a part id by itself, its text form and its values', () => {
    expect(partIdKeys('0A')).toEqual(['=0A', '~a', 'x:10']);
    expect(partIdKeys('10')).toEqual(['=10', '~10', 'd:10', 'x:16']);
    expect(partIdKeys('x'.repeat(41))).toEqual([`=${'x'.repeat(41)}`, `~${'x'.repeat(41)}`]);
  });
});
