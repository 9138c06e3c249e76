import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { clientKey, FixedWindow, secondsUntilUtcMidnight, utcDay } from '../../src/domain/rate-limits.js';

describe('the UTC day of a daily_limit', () => {
  it('is the UTC date, whatever the hour', () => {
    expect(utcDay(new Date('2026-05-01T00:00:00.000Z'))).toBe('2026-05-01');
    expect(utcDay(new Date('2026-05-01T23:59:59.999Z'))).toBe('2026-05-01');
  });

  it('ends at the next UTC midnight: Retry-After in whole seconds, at least 1', () => {
    expect(secondsUntilUtcMidnight(new Date('2026-05-01T00:00:00.000Z'))).toBe(86_400);
    expect(secondsUntilUtcMidnight(new Date('2026-05-01T23:00:00.000Z'))).toBe(3_600);
    expect(secondsUntilUtcMidnight(new Date('2026-05-01T23:59:59.500Z'))).toBe(1);
    expect(secondsUntilUtcMidnight(new Date('2026-12-31T12:00:00.250Z'))).toBe(43_200);
  });
});

describe('clientKey', () => {
  it('counts an IPv4 address as it is, an IPv4-mapped one as its IPv4', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    expect(clientKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:0db8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('leaves anything else as it is', () => {
    expect(clientKey('local')).toBe('local');
    expect(clientKey('not:an:address')).toBe('not:an:address');
  });
});

describe('FixedWindow', () => {
  it('lets `limit` hits through per window and says how long until the next', () => {
    let now = 120_000; // a window boundary
    const w = new FixedWindow(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) {
      expect(w.blocked('a')).toBeNull();
      w.hit('a');
    }
    expect(w.blocked('a')).toBe(60);
    expect(w.blocked('b')).toBeNull();
    now += 45_500;
    expect(w.blocked('a')).toBe(15);
    now += 14_500; // the next window
    expect(w.blocked('a')).toBeNull();
  });

  it('holds at most maxKeys addresses; the ones past it share one count', () => {
    const w = new FixedWindow(2, 60_000, () => 0, 2);
    w.hit('a');
    w.hit('b');
    w.hit('c');
    w.hit('d');
    expect(w.blocked('a')).toBeNull();
    expect(w.blocked('e')).toBe(60);
  });

  it('is off with a limit of 0', () => {
    const w = new FixedWindow(0, 60_000, () => 0);
    for (let i = 0; i < 1000; i++) w.hit('a');
    expect(w.blocked('a')).toBeNull();
  });
});

describe('THROTTLE_* configuration', () => {
  it('defaults to 300 failed credentials and 10 failed sign-ins a minute; 0 turns them off; a bad value names the variable', () => {
    expect(loadConfig({}).throttle).toEqual({ failedAuthPerMinute: 300, signInFailuresPerMinute: 10 });
    expect(loadConfig({ THROTTLE_FAILED_AUTH_PER_MINUTE: '0', THROTTLE_SIGN_IN_PER_MINUTE: '3' }).throttle).toEqual({ failedAuthPerMinute: 0, signInFailuresPerMinute: 3 });
    expect(() => loadConfig({ THROTTLE_SIGN_IN_PER_MINUTE: '-1' })).toThrow(/THROTTLE_SIGN_IN_PER_MINUTE/);
    expect(() => loadConfig({ THROTTLE_FAILED_AUTH_PER_MINUTE: 'lots' })).toThrow(/THROTTLE_FAILED_AUTH_PER_MINUTE/);
  });
});
