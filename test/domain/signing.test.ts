import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  activeSecrets,
  generateSigningSecret,
  isSigningSecret,
  sign,
  signatureHeaders,
  signedPayload,
  verifyWebhook,
} from '../../src/domain/signing.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const now = new Date('2026-05-01T10:00:00Z');
const ts = Math.floor(now.getTime() / 1000);

describe('signing (Standard Webhooks)', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const a = generateSigningSecret();
    expect(isSigningSecret(a)).toBe(true);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(generateSigningSecret()).not.toBe(a);
  });

  it('signs id.timestamp.payload with HMAC-SHA256 keyed by the base64-decoded secret', () => {
    const expected = createHmac('sha256', Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64')).update(`msg_1.${ts}.{"a":1}`).digest('base64');
    expect(sign(secret, 'msg_1', ts, '{"a":1}')).toBe(`v1,${expected}`);
  });

  it('matches the Standard Webhooks reference vector', () => {
    // From the standard-webhooks libraries' tests.
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    const payload = '{"test": 2432232314}';
    expect(signatureHeaders(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], headers['webhook-id'], 1614265330, payload)).toEqual(headers);
    expect(verifyWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers, payload, { now: new Date(1614265330_000) })).toEqual({ ok: true });
  });

  it('verifies with the secret and fails with another, a changed body, or an old timestamp', () => {
    const headers = signatureHeaders([secret], 'mo-1-trigger', ts, 'body');
    expect(verifyWebhook(secret, headers, 'body', { now })).toEqual({ ok: true });
    expect(verifyWebhook(generateSigningSecret(), headers, 'body', { now })).toEqual({ ok: false, reason: 'no signature matches' });
    expect(verifyWebhook(secret, headers, 'body!', { now }).ok).toBe(false);
    expect(verifyWebhook(secret, headers, 'body', { now: new Date(now.getTime() + 6 * 60_000) })).toMatchObject({ ok: false, reason: expect.stringMatching(/too old/) });
    expect(verifyWebhook(secret, { 'webhook-id': 'x' }, 'body', { now }).ok).toBe(false);
  });

  it('reads fetch Headers too', () => {
    const headers = new Headers(signatureHeaders([secret], 'id', ts, ''));
    expect(verifyWebhook(secret, headers, '', { now })).toEqual({ ok: true });
  });

  it('signs with both secrets during a rotation, and either verifies', () => {
    const old = generateSigningSecret();
    const secrets = activeSecrets(secret, old, new Date(now.getTime() + 1000), now);
    expect(secrets).toEqual([secret, old]);
    expect(activeSecrets(secret, old, new Date(now.getTime() - 1000), now)).toEqual([secret]);
    const headers = signatureHeaders(secrets, 'id', ts, 'p');
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifyWebhook(secret, headers, 'p', { now }).ok).toBe(true);
    expect(verifyWebhook(old, headers, 'p', { now }).ok).toBe(true);
  });

  it('signs the body, or for a GET the path and query as sent', () => {
    expect(signedPayload('https://x.test/a?b=1', '{"x":1}')).toBe('{"x":1}');
    expect(signedPayload('https://x.test/mo?m=a%20b&k=K', null)).toBe('/mo?m=a%20b&k=K');
  });
});
