import { describe, expect, it } from 'vitest';
import { deliveryOutcome, deliveryStatus, isFinalDeliveryStatus, smsOutcome } from '../../src/domain/delivery-reports.js';

describe('deliveryStatus', () => {
  it('keeps a status name in upper case, and names Kannel DLR types', () => {
    expect(deliveryStatus(' delivrd ')).toBe('DELIVRD');
    expect(deliveryStatus('AWAITED-DLR')).toBe('AWAITED-DLR');
    expect(['1', '2', '4', '8', '16', 1, '016'].map(deliveryStatus)).toEqual(['DELIVERED', 'UNDELIVERED', 'QUEUED', 'ACCEPTED', 'REJECTED', 'DELIVERED', 'REJECTED']);
  });

  it('is null for what is no status', () => {
    expect(['', '  ', '3', '99', '<b>', 'x'.repeat(33), '-1'].map(deliveryStatus)).toEqual([null, null, null, null, null, null, null]);
  });
});

describe('deliveryOutcome', () => {
  it('is final for delivered and undelivered spellings, in any case', () => {
    expect(['DELIVERED', 'delivrd', 'DLVRD', 1].map(deliveryOutcome)).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(['FAILED', 'undeliv', 'UNDELIVERED', 'EXPIRED', 'REJECTD', 'REJECTED', 'DELETED', 2, 16].map(deliveryOutcome)).toEqual(Array(9).fill('undelivered'));
  });

  it('is null for interim statuses and unknown ones', () => {
    expect(['ENROUTE', 'ACCEPTED', 'accepted', 'SENT', 'SUBMITTED', 'QUEUED', 'UNKNOWN', 4, 8].map(deliveryOutcome)).toEqual(Array(9).fill(null));
    expect(isFinalDeliveryStatus('sent')).toBe(false);
    expect(isFinalDeliveryStatus('Delivered')).toBe(true);
  });
});

describe('smsOutcome', () => {
  const two = { ids: ['P1', 'P2'], total: 2 };
  const r = (partId: string, status: string) => ({ partId, status });

  it('is delivered only once every part is', () => {
    expect(smsOutcome(two, [r('P1', 'DELIVRD')])).toBeNull();
    expect(smsOutcome(two, [r('P1', 'DELIVRD'), r('P2', 'ACCEPTD')])).toBeNull();
    expect(smsOutcome(two, [r('P1', 'DELIVRD'), r('P2', 'DELIVRD')])).toBe('delivered');
    // parts not all sent yet, or a part the SMSC gave no id
    expect(smsOutcome({ ids: ['P1'], total: 2 }, [r('P1', 'DELIVRD')])).toBeNull();
    expect(smsOutcome({ ids: ['P1', ''], total: 2 }, [r('P1', 'DELIVRD')])).toBeNull();
  });

  it('is undelivered as soon as any part fails, and a later DELIVRD does not undo it', () => {
    expect(smsOutcome(two, [r('P1', 'UNDELIV')])).toBe('undelivered');
    expect(smsOutcome(two, [r('P1', 'UNDELIV'), r('P2', 'DELIVRD')])).toBe('undelivered');
    expect(smsOutcome(two, [r('P1', 'DELIVRD'), r('P2', 'DELIVRD'), r('P2', 'EXPIRED')])).toBe('undelivered');
    expect(smsOutcome({ ids: null, total: null }, [r('', 'FAILED'), r('', 'DELIVERED')])).toBe('undelivered');
  });

  it('takes a report on the whole SMS for all of it', () => {
    expect(smsOutcome({ ids: null, total: null }, [])).toBeNull();
    expect(smsOutcome({ ids: null, total: null }, [r('', 'ENROUTE')])).toBeNull();
    expect(smsOutcome({ ids: null, total: null }, [r('', 'DELIVERED')])).toBe('delivered');
    expect(smsOutcome(two, [r('', 'DELIVERED')])).toBe('delivered');
  });
});
