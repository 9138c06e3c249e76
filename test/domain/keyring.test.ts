import { describe, expect, it } from 'vitest';
import { generateKey, makeKeyring, open, openText, parseKey, seal, sealText, sealedKeyId } from '../../src/domain/keyring.js';
import { secretNotResupplied, type StoredProfile } from '../../src/domain/callback-profile.js';
import { openAuth, sealAuth } from '../../src/domain/profile-secrets.js';

describe('keyring (AES-256-GCM, key id in each value)', () => {
  it('seals with a fresh nonce each time and opens what it sealed', () => {
    const ring = makeKeyring(generateKey(), undefined, 'SECRETS_KEY');
    const a = sealText(ring, 'hunter2');
    const b = sealText(ring, 'hunter2');
    expect(a).not.toBe(b);
    expect(a).toMatch(new RegExp(`^enc:v1:${ring.current.id}:`));
    expect(openText(ring, a)).toBe('hunter2');
    expect(openText(ring, b)).toBe('hunter2');
  });

  it('opens values sealed with a previous key, and names a key it does not have', () => {
    const oldKey = generateKey();
    const old = makeKeyring(oldKey, undefined, 'SECRETS_KEY');
    const sealed = sealText(old, 'from before');
    const rotated = makeKeyring(generateKey(), oldKey, 'SECRETS_KEY');
    expect(openText(rotated, sealed)).toBe('from before');
    expect(sealedKeyId(sealText(rotated, 'x'))).toBe(rotated.current.id);
    const stranger = makeKeyring(generateKey(), undefined, 'SECRETS_KEY');
    expect(() => openText(stranger, sealed)).toThrow(`sealed with key ${old.current.id}, which is not configured`);
  });

  it('refuses a tampered value and a value bound to other data', () => {
    const ring = makeKeyring(generateKey(), undefined, 'PAYLOAD_KEY');
    const { keyId, sealed } = seal(ring, Buffer.from('+919812345678'), Buffer.from('ns-a'));
    expect(open(ring, keyId, sealed, Buffer.from('ns-a')).toString()).toBe('+919812345678');
    expect(() => open(ring, keyId, sealed, Buffer.from('ns-b'))).toThrow();
    sealed[14]! ^= 1;
    expect(() => open(ring, keyId, sealed, Buffer.from('ns-a'))).toThrow();
  });

  it('takes only 32-byte keys, naming the variable', () => {
    expect(() => parseKey('c2hvcnQ=', 'SECRETS_KEY')).toThrow('SECRETS_KEY must be 32 bytes in base64');
    expect(() => makeKeyring(generateKey(), 'bad', 'PAYLOAD_KEY')).toThrow('PAYLOAD_KEY_PREVIOUS must be 32 bytes');
  });

  it('seals and opens a profile auth, leaving the rest as it is', () => {
    const ring = makeKeyring(generateKey(), undefined, 'SECRETS_KEY');
    const auth = { type: 'advanced' as const, url: 'https://a.test/t', client_id: 'cid', client_secret: 's3cret' };
    const sealed = sealAuth(ring, auth)!;
    expect(sealed).toMatchObject({ url: 'https://a.test/t', client_id: 'cid', client_secret: expect.stringMatching(/^enc:v1:/) });
    expect(openAuth(ring, sealed)).toEqual(auth);
    // a value stored in clear (before sealing existed) reads as it is
    expect(openAuth(ring, auth)).toEqual(auth);
  });
});

describe('secretNotResupplied', () => {
  const stored = (auth: StoredProfile['auth']): StoredProfile => ({
    title: 't', http_method: 'POST', url: 'https://hooks.example.com/mo', body: null, content_type: null, headers: {}, auth, enc: null, status: 'active',
  });
  const basic = stored({ type: 'basic', username: 'u', password: 'p' });
  const advanced = stored({ type: 'advanced', url: 'https://auth.example.com/t', client_id: 'c', client_secret: 's' });

  it('asks for the secret when the host changes, not when the path does', () => {
    expect(secretNotResupplied(basic, { url: 'https://other.example.com/mo' })?.field).toBe('auth.password');
    expect(secretNotResupplied(basic, { url: 'http://hooks.example.com/mo' })?.field).toBe('auth.password');
    expect(secretNotResupplied(basic, { url: 'https://hooks.example.com/other?q=1' })).toBeNull();
    expect(secretNotResupplied(basic, { url: 'https://other.example.com/mo', auth: { password: 'new' } })).toBeNull();
    expect(secretNotResupplied(basic, { url: 'https://other.example.com/mo', auth: null })).toBeNull();
    expect(secretNotResupplied(stored(null), { url: 'https://other.example.com/mo' })).toBeNull();
  });

  it('guards the token URL and the URL the token goes to', () => {
    expect(secretNotResupplied(advanced, { auth: { url: 'https://evil.example.com/t' } })?.field).toBe('auth.client_secret');
    expect(secretNotResupplied(advanced, { url: 'https://evil.example.com/mo' })?.field).toBe('auth.client_secret');
    expect(secretNotResupplied(advanced, { auth: { url: 'https://auth.example.com/v2/t' } })).toBeNull();
    expect(secretNotResupplied(advanced, { url: 'https://evil.example.com/mo', auth: { client_secret: 'n' } })).toBeNull();
    // a new type is a new auth, validated whole
    expect(secretNotResupplied(advanced, { url: 'https://evil.example.com/mo', auth: { type: 'basic' } })).toBeNull();
  });
});
