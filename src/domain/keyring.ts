import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * A set of AES-256-GCM keys: the current one encrypts, every one decrypts. Each sealed value
 * names the key that sealed it by id, so a key can rotate: the new key becomes current, the old
 * one stays in the `…_PREVIOUS` list until nothing sealed with it is left.
 * Used for secrets at rest (SECRETS_KEY) and for Temporal payloads (PAYLOAD_KEY).
 */
export type Keyring = { current: Key; byId: ReadonlyMap<string, Key> };
export type Key = { id: string; bytes: Buffer };

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A key as configured: base64 (or base64url) of 32 random bytes, `openssl rand -base64 32`. */
export function parseKey(text: string, name: string): Key {
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== 32) throw new Error(`${name} must be 32 bytes in base64 (openssl rand -base64 32), got ${bytes.length} bytes`);
  return { id: keyId(bytes), bytes };
}

/** The key's id: the first 8 hex digits of its SHA-256. Names the key without revealing it. */
export function keyId(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 8);
}

export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

/** The current key and the previous ones (comma-separated); throws naming the variable at fault. */
export function makeKeyring(current: string, previous: string | undefined, name: string): Keyring {
  const key = parseKey(current, name);
  const byId = new Map<string, Key>([[key.id, key]]);
  for (const p of (previous ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const k = parseKey(p, `${name}_PREVIOUS`);
    if (!byId.has(k.id)) byId.set(k.id, k);
  }
  return { current: key, byId };
}

/** nonce ‖ ciphertext ‖ tag, under the current key; `aad`, when given, must be given again to open it. */
export function seal(ring: Keyring, plain: Buffer, aad?: Buffer): { keyId: string; sealed: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ring.current.bytes, nonce);
  if (aad) cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { keyId: ring.current.id, sealed: Buffer.concat([nonce, ct, cipher.getAuthTag()]) };
}

export function open(ring: Keyring, keyIdOfValue: string, sealed: Buffer, aad?: Buffer): Buffer {
  const key = ring.byId.get(keyIdOfValue);
  if (!key) throw new Error(`sealed with key ${keyIdOfValue}, which is not configured (current ${ring.current.id})`);
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key.bytes, sealed.subarray(0, NONCE_BYTES));
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}

const PREFIX = 'enc:v1:';

/** A secret as stored in a text column: `enc:v1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. */
export function sealText(ring: Keyring, plain: string): string {
  const { keyId: kid, sealed } = seal(ring, Buffer.from(plain, 'utf8'));
  return `${PREFIX}${kid}:${sealed.toString('base64')}`;
}

export function isSealedText(value: string): boolean {
  return value.startsWith(PREFIX);
}

export function openText(ring: Keyring, stored: string): string {
  if (!isSealedText(stored)) throw new Error('not a sealed value');
  const rest = stored.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  return open(ring, rest.slice(0, colon), Buffer.from(rest.slice(colon + 1), 'base64')).toString('utf8');
}

/** The id of the key a stored value was sealed with (rotation re-seals the others). */
export function sealedKeyId(stored: string): string | null {
  if (!isSealedText(stored)) return null;
  const rest = stored.slice(PREFIX.length);
  return rest.slice(0, rest.indexOf(':'));
}

/** The ring of a configured key; a process built without it (a test, a script) fails here, by name. */
export function requireKeyring(ring: Keyring | null, name: string): Keyring {
  if (!ring) throw new Error(`${name} is not configured`);
  return ring;
}
