import { describe, expect, it } from 'vitest';
import { backoffMs, capRetryDelayMs, CAP_RETRY_MAX_MS, CAP_RETRY_MIN_MS, fairnessPriority, shareOf } from '../../src/domain/fairness.js';

describe('fairness keys', () => {
  it('is the account\'s sid; work of no one account has none and shares one turn', () => {
    expect(fairnessPriority('HXAB12')).toEqual({ fairnessKey: 'HXAB12' });
    expect(fairnessPriority(null)).toBeUndefined();
    expect(shareOf(null)).toBe(shareOf(null));
    expect(shareOf('HXAB12')).not.toBe(shareOf(null));
  });
});

describe('capRetryDelayMs', () => {
  const middle = () => 0.5; // no spread
  it('comes back about when the attempt\'s turn would come, were the waiting let in cap at a time', () => {
    expect(capRetryDelayMs({ waiting: 16, cap: 8, typicalCallMs: 3000 }, middle)).toBe(6000);
    expect(capRetryDelayMs({ waiting: 40, cap: 8, typicalCallMs: 3000 }, middle)).toBe(15000);
  });

  it('stays within its bounds however few or many wait, still spread when many do', () => {
    expect(capRetryDelayMs({ waiting: 1, cap: 8, typicalCallMs: 50 }, middle)).toBe(CAP_RETRY_MIN_MS);
    const many = { waiting: 100_000, cap: 8, typicalCallMs: 3000 };
    expect(capRetryDelayMs(many, middle)).toBe(CAP_RETRY_MAX_MS);
    expect(capRetryDelayMs(many, () => 0)).toBe(CAP_RETRY_MAX_MS / 2);
    expect(capRetryDelayMs(many, () => 0.999)).toBeCloseTo(CAP_RETRY_MAX_MS * 1.499, -2);
  });

  it('spreads the attempts that wait, so they do not all come back at once', () => {
    const o = { waiting: 24, cap: 8, typicalCallMs: 3000 };
    expect(capRetryDelayMs(o, () => 0)).toBe(4500);
    expect(capRetryDelayMs(o, () => 0.999)).toBeCloseTo(13_491, -1);
  });
});

describe('backoffMs', () => {
  it('is the policy\'s backoff after the n-th attempt made, at most its maximum', () => {
    const policy = { initialMs: 2000, coefficient: 2, maximumMs: 3_600_000 };
    expect([1, 2, 3].map((n) => backoffMs(policy, n))).toEqual([2000, 4000, 8000]);
    expect(backoffMs(policy, 30)).toBe(3_600_000);
    expect(backoffMs(policy, 0)).toBe(2000);
  });
});
