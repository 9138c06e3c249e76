import type { ProfileAuth } from './callback-auth.js';
import type { EncSettings } from './encryption.js';
import { isSealedText, openText, sealedKeyId, sealText, type Keyring } from './keyring.js';

/**
 * The secrets a callback profile or an account keeps (basic passwords, client secrets, AES keys
 * and IVs, signing secrets) are stored sealed with SECRETS_KEY (`enc:v1:<key id>:…`, see
 * domain/keyring.ts) and opened only where they are used: the webhook activity, and the API
 * routes that show a signing secret. A value stored before sealing existed is read as it is
 * and sealed at the next start (db/seal-secrets.ts).
 */

/**
 * Seals a value, whatever it looks like: a value given through the API that happens to look
 * sealed (`enc:v1:…`) is the owner's text, sealed like any other, so pasting another row's
 * sealed value opens to that text, never to the secret behind it.
 */
export function sealSecret(ring: Keyring, value: string): string {
  return sealText(ring, value);
}

export function openSecret(ring: Keyring, value: string): string {
  return isSealedText(value) ? openText(ring, value) : value;
}

/** Whether a stored value still needs sealing with the current key (clear, or an older key). */
export function needsSealing(ring: Keyring, value: string | null | undefined): boolean {
  return typeof value === 'string' && sealedKeyId(value) !== ring.current.id;
}

export function reseal(ring: Keyring, value: string): string {
  return sealText(ring, openSecret(ring, value));
}

type Mapper = (value: string) => string;

function mapAuth(auth: ProfileAuth | null, f: Mapper): ProfileAuth | null {
  if (!auth) return null;
  return auth.type === 'basic' ? { ...auth, password: f(auth.password) } : { ...auth, client_secret: f(auth.client_secret) };
}

function mapEnc(enc: EncSettings | null, f: Mapper): EncSettings | null {
  return enc ? { ...enc, key: f(enc.key), iv: f(enc.iv) } : null;
}

export const sealAuth = (ring: Keyring, auth: ProfileAuth | null) => mapAuth(auth, (v) => sealSecret(ring, v));
export const openAuth = (ring: Keyring, auth: ProfileAuth | null) => mapAuth(auth, (v) => openSecret(ring, v));
export const resealAuth = (ring: Keyring, auth: ProfileAuth | null) => mapAuth(auth, (v) => reseal(ring, v));
export const sealEnc = (ring: Keyring, enc: EncSettings | null) => mapEnc(enc, (v) => sealSecret(ring, v));
export const openEnc = (ring: Keyring, enc: EncSettings | null) => mapEnc(enc, (v) => openSecret(ring, v));
export const resealEnc = (ring: Keyring, enc: EncSettings | null) => mapEnc(enc, (v) => reseal(ring, v));

export function authNeedsSealing(ring: Keyring, auth: ProfileAuth | null): boolean {
  return !!auth && needsSealing(ring, auth.type === 'basic' ? auth.password : auth.client_secret);
}

export function encNeedsSealing(ring: Keyring, enc: EncSettings | null): boolean {
  return !!enc && (needsSealing(ring, enc.key) || needsSealing(ring, enc.iv));
}
