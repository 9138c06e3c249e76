import { describe, expect, it } from 'vitest';
import { parseCarrierTime, readMoMetadata } from '../../src/domain/mo-metadata.js';

const now = new Date('2026-11-30T12:00:00Z');

describe('readMoMetadata (SPEC §5: never refuse an MO for its metadata)', () => {
  it('reads ISO-8601, Kaleyra\'s own format (UTC) and an offset whose "+" a GET turned into a space', () => {
    expect(parseCarrierTime('2026-04-17T13:05:20Z')?.toISOString()).toBe('2026-04-17T13:05:20.000Z');
    expect(parseCarrierTime('2026-04-17 13:05:20')?.toISOString()).toBe('2026-04-17T13:05:20.000Z');
    expect(parseCarrierTime('2026-04-17T18:35:20+05:30')?.toISOString()).toBe('2026-04-17T13:05:20.000Z');
    expect(parseCarrierTime('2026-04-17T18:35:20 05:30')?.toISOString()).toBe('2026-04-17T13:05:20.000Z');
    expect(parseCarrierTime('2026-04-17T08:05:20.250-0500')?.toISOString()).toBe('2026-04-17T13:05:20.250Z');
    expect(parseCarrierTime('2026-04-17T13:05')?.toISOString()).toBe('2026-04-17T13:05:00.000Z');
  });

  it('takes the arrival time, with a note, for a time it cannot read or one in the future', () => {
    for (const received_at of ['yesterday', '2026-02-30T10:00:00Z', '2026-04-17T25:00:00Z', '17/04/2026 13:05']) {
      const m = readMoMetadata({ received_at }, now);
      expect(m.receivedAt).toBeNull();
      expect(m.notes).toEqual([expect.stringMatching(/^received_at: .* is not a date-time; the arrival time is used$/)]);
    }
    const future = readMoMetadata({ received_at: '2027-01-01T00:00:00Z' }, now);
    expect(future).toMatchObject({ receivedAt: null, notes: ['received_at: in the future; the arrival time is used'] });
    expect(readMoMetadata({}, now)).toEqual({ id: null, operator: null, circle: null, receivedAt: null, notes: [] });
  });

  it('keeps any printable carrier id up to 256 characters, and a longer or unprintable one as its SHA-256', () => {
    for (const id of ['has space', 'slash/id', 'ünïcödé-✓', 'x'.repeat(256), 12345]) {
      expect(readMoMetadata({ id }, now)).toMatchObject({ id: String(id), notes: [] });
    }
    const long = readMoMetadata({ id: 'x'.repeat(300) }, now);
    expect(long.id).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(long.notes).toEqual(['id: over 256 characters; kept as its SHA-256']);
    // The same id again gives the same stored id: the carrier's retry is still a repeat.
    expect(readMoMetadata({ id: 'x'.repeat(300) }, now).id).toBe(long.id);
    expect(readMoMetadata({ id: 'tab\there' }, now).notes).toEqual(['id: holds control characters; kept as its SHA-256']);
    expect(readMoMetadata({ id: '  ' }, now)).toMatchObject({ id: null, notes: ['id: empty; the service made one'] });
  });

  it('cuts over-long operator and circle to 100 characters, with a note', () => {
    const m = readMoMetadata({ operator: 'o'.repeat(150), circle: 'JIO DELHI' }, now);
    expect(m.operator).toBe('o'.repeat(100));
    expect(m.circle).toBe('JIO DELHI');
    expect(m.notes).toEqual(['operator: cut to 100 of its 150 characters']);
  });
});
