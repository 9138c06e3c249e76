import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptValue, ENC_ALGORITHMS, encryptValue, encryptVariables, encSettingsProblem, type EncSettings } from '../../src/domain/encryption.js';
import { buildVariables } from '../../src/domain/variables.js';

const keys = { 128: '0123456789abcdef', 192: '0123456789abcdef01234567', 256: '0123456789abcdef0123456789abcdef' } as const;
const settings = (algorithm: EncSettings['algorithm'], fields?: string[]): EncSettings => ({
  algorithm,
  key: keys[Number(algorithm.slice(4, 7)) as 128 | 192 | 256],
  iv: algorithm.endsWith('GCM') ? 'unique-nonce' : 'abcdefghijklmnop',
  fields,
});

describe('per-field encryption', () => {
  for (const algorithm of ENC_ALGORITHMS) {
    it(`${algorithm} round-trips text, unicode and the empty string`, () => {
      const enc = settings(algorithm);
      for (const text of ['GET OFFER now', 'नमस्ते 👋 "quoted" & <b>', '']) {
        const cipher = encryptValue(enc, text);
        expect(cipher).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
        expect(decryptValue(enc, cipher)).toBe(text);
      }
    });
  }

  it('is plain openssl AES-CFB128 over the UTF-8 key and IV (what a PHP or Java receiver expects)', () => {
    const enc = settings('AES-128-CFB');
    const c = createCipheriv('aes-128-cfb', Buffer.from(enc.key), Buffer.from(enc.iv));
    expect(encryptValue(enc, 'hello')).toBe(Buffer.concat([c.update('hello'), c.final()]).toString('base64'));
  });

  it('gives each GCM value a fresh 12-byte nonce in front and the 16-byte tag behind; a tampered value fails', () => {
    const enc = settings('AES-256-GCM');
    const one = encryptValue(enc, 'hello');
    const two = encryptValue(enc, 'hello');
    const raw = Buffer.from(one, 'base64');
    expect(raw).toHaveLength(12 + 5 + 16);
    // The same text twice: different nonces, different ciphertexts, both decrypt.
    expect(Buffer.from(two, 'base64').subarray(0, 12)).not.toEqual(raw.subarray(0, 12));
    expect(two).not.toBe(one);
    expect([decryptValue(enc, one), decryptValue(enc, two)]).toEqual(['hello', 'hello']);
    raw[14] = raw[14]! ^ 1;
    expect(() => decryptValue(enc, raw.toString('base64'))).toThrow();
  });

  it('checks key and IV lengths per algorithm, naming the field', () => {
    expect(encSettingsProblem(settings('AES-256-CFB'))).toBeNull();
    expect(encSettingsProblem({ ...settings('AES-256-CFB'), key: keys[128] })).toEqual({ field: 'key', message: 'must be 32 bytes (characters) for AES-256-CFB' });
    expect(encSettingsProblem({ ...settings('AES-128-CFB'), iv: 'short' })).toEqual({ field: 'iv', message: 'must be 16 bytes (characters) for AES-128-CFB' });
    expect(encSettingsProblem({ ...settings('AES-128-GCM'), iv: 'abcdefghijklmnop' })).toBeNull();
    expect(encSettingsProblem({ ...settings('AES-128-GCM'), iv: 'abc' })?.field).toBe('iv');
  });

  it('encrypts every variable value but the constants, or only the chosen fields', () => {
    const vars = buildVariables({
      id: 'm1', kid: 'k1', source: '+919812345678', recipient: '+919876543210', message: 'JOIN Priya Pune',
      keyword: 'JOIN', operator: 'JIO', circle: null, timestamp: '2026-04-17 18:35:20', named: { name: 'Priya' },
    });
    const all = settings('AES-128-GCM');
    const e = encryptVariables(vars, all);
    expect(decryptValue(all, e.source)).toBe('+919812345678');
    // "SENT" and "Message has been sent" are the same for every delivery: no secret to keep.
    expect([e.status, e.status_trace, e.description]).toEqual(['SENT', 'SENT', 'Message has been sent']);
    expect(decryptValue(all, e.message)).toBe('JOIN Priya Pune');
    expect(e.parts.map((p) => decryptValue(all, p))).toEqual(['JOIN', 'Priya', 'Pune']);
    expect(decryptValue(all, e.named.name!)).toBe('Priya');

    const some = settings('AES-128-CFB', ['message', 'parts']);
    const s = encryptVariables(vars, some);
    expect(s.source).toBe('+919812345678');
    expect(decryptValue(some, s.message)).toBe('JOIN Priya Pune');
    expect(decryptValue(some, s.parts[1]!)).toBe('Priya');
    expect(s.named.name).toBe('Priya');
    // Named in fields, a constant is encrypted too.
    const withStatus = settings('AES-128-GCM', ['status']);
    expect(decryptValue(withStatus, encryptVariables(vars, withStatus).status)).toBe('SENT');
  });
});
