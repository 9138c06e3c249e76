import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, retryAfterMs } from '../../src/domain/webhook.js';

const now = new Date('2026-05-01T10:00:00Z');

describe('Retry-After', () => {
  it('reads seconds and HTTP dates on 429 and 503', () => {
    expect(retryAfterMs(429, '30', now)).toBe(30_000);
    expect(retryAfterMs(503, 'Fri, 01 May 2026 10:02:00 GMT', now)).toBe(120_000);
  });

  it('waits at least a second and at most an hour', () => {
    expect(retryAfterMs(429, '0', now)).toBe(1000);
    expect(retryAfterMs(429, 'Fri, 01 May 2026 09:00:00 GMT', now)).toBe(1000);
    expect(retryAfterMs(503, '86400', now)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('is ignored on other statuses, when absent, or when unreadable', () => {
    expect(retryAfterMs(500, '30', now)).toBeNull();
    expect(retryAfterMs(429, null, now)).toBeNull();
    expect(retryAfterMs(429, 'soon', now)).toBeNull();
  });
});
