import { describe, expect, it } from 'vitest';
import { isDeliveryReceipt, parseReceipt, receiptDate } from '../../src/domain/smpp-receipts.js';

describe('parseReceipt', () => {
  it('reads the SMPP 3.4 Appendix B text', () => {
    const r = parseReceipt('id:0a1b2c sub:001 dlvrd:001 submit date:2612010341 done date:2612010342 stat:DELIVRD err:000 text:hello world');
    expect(r).toEqual({ messageId: '0a1b2c', status: 'DELIVRD', errorCode: null, at: new Date('2026-12-01T03:42:00Z') });
  });

  it('keeps a non-zero error code and reads seconds in dates', () => {
    const r = parseReceipt('id:77 sub:001 dlvrd:000 submit date:261201034105 done date:261201034210 stat:UNDELIV err:069 text:');
    expect(r).toMatchObject({ messageId: '77', status: 'UNDELIV', errorCode: '069', at: new Date('2026-12-01T03:42:10Z') });
  });

  it('prefers the receipted_message_id and message_state TLVs', () => {
    expect(parseReceipt('id:1 stat:ENROUTE', { receipted_message_id: 'abc', message_state: 2 })).toMatchObject({ messageId: 'abc', status: 'DELIVRD' });
    expect(parseReceipt('', { receipted_message_id: 'abc', message_state: 5 })).toMatchObject({ messageId: 'abc', status: 'UNDELIV' });
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
