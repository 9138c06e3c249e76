import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import type { MessageVariables } from './variables.js';

/**
 * Per-field callback encryption: each variable's value is encrypted with the profile's AES key
 * before it is put into the URL or body, so the template stays readable and only the values
 * are secret. The key (and, for CFB, the IV) are the UTF-8 bytes of the strings the owner gave
 * (as with `openssl_encrypt` in PHP).
 *
 * GCM: every value gets a fresh random 12-byte nonce, sent in front of it:
 * `base64(nonce ‖ ciphertext ‖ 16-byte tag)`. No two values share a nonce, so nothing about
 * one plaintext leaks from another; the profile's `iv` is not used.
 * CFB is Kaleyra's scheme, kept for receivers built for it: the profile's fixed IV for every
 * value, `base64(ciphertext)`. Its weakness: equal values encrypt equally, and a known
 * plaintext reveals the start of every other value encrypted under the same key and IV
 * (docs/webhooks.md says so beside it). See docs/webhooks.md for a receiver's decrypt code.
 */

export const ENC_ALGORITHMS = ['AES-128-CFB', 'AES-192-CFB', 'AES-256-CFB', 'AES-128-GCM', 'AES-192-GCM', 'AES-256-GCM'] as const;
export type EncAlgorithm = (typeof ENC_ALGORITHMS)[number];

export type EncSettings = {
  algorithm: EncAlgorithm;
  key: string;
  iv: string;
  /** variable names whose values are encrypted; absent means every one */
  fields?: string[] | null;
};

const GCM_TAG_BYTES = 16;

export function keyBytesFor(algorithm: EncAlgorithm): number {
  return Number(algorithm.slice(4, 7)) / 8;
}

/** The byte lengths an IV may have: CFB takes one block; GCM makes its own per value, but an IV given stays valid. */
export function ivBytesFor(algorithm: EncAlgorithm): number[] {
  return algorithm.endsWith('GCM') ? [12, 16] : [16];
}

const GCM_NONCE_BYTES = 12;

/** A problem with the key or IV, naming the field, or null. */
export function encSettingsProblem(enc: EncSettings): { field: 'key' | 'iv'; message: string } | null {
  const keyBytes = keyBytesFor(enc.algorithm);
  if (Buffer.byteLength(enc.key, 'utf8') !== keyBytes) {
    return { field: 'key', message: `must be ${keyBytes} bytes (characters) for ${enc.algorithm}` };
  }
  const ivBytes = ivBytesFor(enc.algorithm);
  if (!ivBytes.includes(Buffer.byteLength(enc.iv, 'utf8'))) {
    return { field: 'iv', message: `must be ${ivBytes.join(' or ')} bytes (characters) for ${enc.algorithm}` };
  }
  return null;
}

const cipherName = (algorithm: EncAlgorithm) => algorithm.toLowerCase() as CipherGCMTypes;
const isGcm = (algorithm: EncAlgorithm) => algorithm.endsWith('GCM');

export function encryptValue(enc: EncSettings, plaintext: string): string {
  const key = Buffer.from(enc.key, 'utf8');
  const iv = Buffer.from(enc.iv, 'utf8');
  if (isGcm(enc.algorithm)) {
    const nonce = randomBytes(GCM_NONCE_BYTES);
    const cipher = createCipheriv(cipherName(enc.algorithm), key, nonce, { authTagLength: GCM_TAG_BYTES });
    const out = Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return out.toString('base64');
  }
  const cipher = createCipheriv(cipherName(enc.algorithm), key, iv);
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

export function decryptValue(enc: EncSettings, value: string): string {
  const key = Buffer.from(enc.key, 'utf8');
  const iv = Buffer.from(enc.iv, 'utf8');
  const data = Buffer.from(value, 'base64');
  if (isGcm(enc.algorithm)) {
    const nonce = data.subarray(0, GCM_NONCE_BYTES);
    const decipher = createDecipheriv(cipherName(enc.algorithm), key, nonce, { authTagLength: GCM_TAG_BYTES });
    decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(GCM_NONCE_BYTES, data.length - GCM_TAG_BYTES)), decipher.final()]).toString('utf8');
  }
  const decipher = createDecipheriv(cipherName(enc.algorithm), key, iv);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
}

const SCALARS = ['source', 'recipient', 'message', 'keyword', 'id', 'kid', 'operator', 'circle', 'timestamp', 'description', 'status', 'status_trace'] as const;
/** The same for every delivery ("Message has been sent", "SENT"): encrypted only when named in `fields`. */
const CONSTANTS = new Set(['description', 'status', 'status_trace']);

/**
 * The variables with the chosen values encrypted: those named in `fields`, else every one but
 * the constants (encrypting a value everybody knows only hands out a known plaintext).
 * `parts` stands for every `<parts[n]>`; a template's named parts go by their own names.
 */
export function encryptVariables(vars: MessageVariables, enc: EncSettings): MessageVariables {
  const chosen = enc.fields?.length ? new Set(enc.fields.map((f) => f.toLowerCase())) : null;
  const pick = (name: string) => (chosen === null ? !CONSTANTS.has(name) : chosen.has(name));
  const e = (name: string, value: string) => (pick(name) ? encryptValue(enc, value) : value);
  const out: MessageVariables = { ...vars, parts: vars.parts.map((p) => e('parts', p)), named: {} };
  for (const name of SCALARS) out[name] = e(name, vars[name]);
  for (const [name, value] of Object.entries(vars.named)) out.named[name] = e(name, value);
  return out;
}
