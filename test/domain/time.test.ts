import { describe, expect, it } from 'vitest';
import { formatInZone, isValidTimeZone, parseLocalDateTime } from '../../src/domain/time.js';

const iso = (local: string, tz: string) => parseLocalDateTime(local, tz)?.toISOString() ?? null;

describe('parseLocalDateTime', () => {
  it('reads UTC as it is', () => {
    expect(iso('2026-04-17 13:05:20', 'UTC')).toBe('2026-04-17T13:05:20.000Z');
  });

  it('reads Asia/Kolkata at +05:30, across midnight and the year end', () => {
    expect(iso('2026-04-17 18:35:20', 'Asia/Kolkata')).toBe('2026-04-17T13:05:20.000Z');
    expect(iso('2026-01-01 05:00:00', 'Asia/Kolkata')).toBe('2025-12-31T23:30:00.000Z');
  });

  it('reads America/New_York at -05:00 in winter and -04:00 in summer', () => {
    expect(iso('2026-01-15 09:00:00', 'America/New_York')).toBe('2026-01-15T14:00:00.000Z');
    expect(iso('2026-07-15 09:00:00', 'America/New_York')).toBe('2026-07-15T13:00:00.000Z');
  });

  it('gets the hours either side of a DST change right (New York, 2026-03-08 and 2026-11-01)', () => {
    expect(iso('2026-03-08 01:59:59', 'America/New_York')).toBe('2026-03-08T06:59:59.000Z');
    expect(iso('2026-03-08 03:00:00', 'America/New_York')).toBe('2026-03-08T07:00:00.000Z');
    expect(iso('2026-11-01 00:30:00', 'America/New_York')).toBe('2026-11-01T04:30:00.000Z');
    expect(iso('2026-11-01 02:30:00', 'America/New_York')).toBe('2026-11-01T07:30:00.000Z');
  });

  it('moves a time the clocks skip forward by the gap (02:30 → 03:30), in every zone alike', () => {
    // 02:00–03:00 does not exist on these days; the time is never read as one before the gap.
    expect(iso('2026-03-08 02:30:00', 'America/New_York')).toBe('2026-03-08T07:30:00.000Z');
    expect(formatInZone(parseLocalDateTime('2026-03-08 02:30:00', 'America/New_York')!, 'America/New_York')).toBe('2026-03-08 03:30:00');
    expect(iso('2026-03-29 02:30:00', 'Europe/Berlin')).toBe('2026-03-29T01:30:00.000Z');
    expect(formatInZone(parseLocalDateTime('2026-03-29 02:30:00', 'Europe/Berlin')!, 'Europe/Berlin')).toBe('2026-03-29 03:30:00');
  });

  it('reads a time the clocks repeat as its first occurrence, in every zone alike', () => {
    // 01:30 comes twice in New York on 2026-11-01 (EDT, then EST); 02:30 twice in Berlin on 2026-10-25.
    expect(iso('2026-11-01 01:30:00', 'America/New_York')).toBe('2026-11-01T05:30:00.000Z');
    expect(iso('2026-10-25 02:30:00', 'Europe/Berlin')).toBe('2026-10-25T00:30:00.000Z');
  });

  it('refuses dates that do not exist', () => {
    for (const local of ['2026-02-30 10:00:00', '2025-02-29 10:00:00', '2026-04-31 10:00:00', '2026-13-01 10:00:00', '2026-00-10 10:00:00', '2026-01-00 10:00:00']) {
      expect(parseLocalDateTime(local, 'Asia/Kolkata'), local).toBeNull();
    }
    expect(iso('2024-02-29 10:00:00', 'UTC')).toBe('2024-02-29T10:00:00.000Z');
  });

  it('refuses times that do not exist', () => {
    for (const local of ['2026-01-01 24:00:00', '2026-01-01 23:60:00', '2026-01-01 23:59:60']) {
      expect(parseLocalDateTime(local, 'UTC'), local).toBeNull();
    }
  });

  it('refuses other formats', () => {
    for (const local of ['2026-01-01T10:00:00', '2026-1-1 10:00:00', '2026-01-01 10:00', '2026-01-01 10:00:00Z', ' 2026-01-01 10:00:00', '']) {
      expect(parseLocalDateTime(local, 'UTC'), local).toBeNull();
    }
  });

  it('does not read a year before 100 as one in the 1900s', () => {
    expect(parseLocalDateTime('0050-01-01 00:00:00', 'UTC')?.getUTCFullYear() ?? null).not.toBe(1950);
  });
});

describe('formatInZone', () => {
  it('shows an instant on the wall clock of a zone as YYYY-MM-DD HH:MM:SS', () => {
    const d = new Date('2026-04-17T13:05:20Z');
    expect(formatInZone(d, 'UTC')).toBe('2026-04-17 13:05:20');
    expect(formatInZone(d, 'Asia/Kolkata')).toBe('2026-04-17 18:35:20');
    expect(formatInZone(d, 'America/New_York')).toBe('2026-04-17 09:05:20');
  });

  it('shows midnight as 00, not 24', () => {
    expect(formatInZone(new Date('2026-01-01T00:00:00Z'), 'UTC')).toBe('2026-01-01 00:00:00');
  });

  it('follows DST in New York', () => {
    expect(formatInZone(new Date('2026-03-08T06:59:59Z'), 'America/New_York')).toBe('2026-03-08 01:59:59');
    expect(formatInZone(new Date('2026-03-08T07:00:00Z'), 'America/New_York')).toBe('2026-03-08 03:00:00');
    expect(formatInZone(new Date('2026-11-01T05:30:00Z'), 'America/New_York')).toBe('2026-11-01 01:30:00');
    expect(formatInZone(new Date('2026-11-01T06:30:00Z'), 'America/New_York')).toBe('2026-11-01 01:30:00');
  });

  it('round-trips with parseLocalDateTime across the DST changes of 2026', () => {
    // Every half hour over two days around each change of New York, Berlin and Sydney, and Kolkata alongside.
    const changes = ['2026-03-08', '2026-11-01', '2026-03-29', '2026-10-25', '2026-04-05', '2026-10-04'];
    const wrong: string[] = [];
    for (const day of changes) {
      const start = Date.parse(`${day}T00:00:00Z`) - 86_400_000;
      for (let t = start; t < start + 2 * 86_400_000; t += 1_800_000) {
        for (const tz of ['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata']) {
          const local = formatInZone(new Date(t), tz);
          const back = parseLocalDateTime(local, tz);
          // A repeated hour reads as its first occurrence; otherwise the instant is exact.
          const ok = back !== null && formatInZone(back, tz) === local && (t === back.getTime() || t - back.getTime() === 3_600_000);
          if (!ok) wrong.push(`${tz} ${local} → ${back?.toISOString()} (from ${new Date(t).toISOString()})`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('isValidTimeZone', () => {
  it('takes IANA zones and refuses made-up ones', () => {
    expect(isValidTimeZone('Asia/Kolkata')).toBe(true);
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
