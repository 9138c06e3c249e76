import { describe, expect, it } from 'vitest';
import { deliveryOutcome, deliveryStatus, isFinalDeliveryStatus } from '../../src/domain/delivery-reports.js';

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
