import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { generateKey, makeKeyring } from '../../src/domain/keyring.js';
import { ENCRYPTED_ENCODING, KeyringPayloadCodec, METADATA_KEY_ID } from '../../src/runtime/payload-codec.js';

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const customer = { source: '+919812345678', message: 'JOIN Priya New Delhi' };

describe('the payload codec', () => {
  const ring = makeKeyring(generateKey(), undefined, 'PAYLOAD_KEY');
  const codec = new KeyringPayloadCodec(ring);

  it('seals the whole payload, metadata too, and opens it again', async () => {
    const plain = defaultPayloadConverter.toPayload(customer);
    const [sealed] = await codec.encode([plain]);
    expect(Object.keys(sealed!.metadata!)).toEqual(['encoding', METADATA_KEY_ID]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![METADATA_KEY_ID])).toBe(ring.current.id);
    expect(text(sealed!.data)).not.toContain('9812345678');
    expect(text(sealed!.data)).not.toContain('json/plain');
    const [opened] = await codec.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(customer);
    expect(text(opened!.metadata!.encoding)).toBe('json/plain');
  });

  it('gives a different ciphertext each time for the same payload', async () => {
    const plain = defaultPayloadConverter.toPayload(customer);
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('opens what an old key sealed once that key is in PAYLOAD_KEY_PREVIOUS', async () => {
    const oldKey = generateKey();
    const oldCodec = new KeyringPayloadCodec(makeKeyring(oldKey, undefined, 'PAYLOAD_KEY'));
    const [sealed] = await oldCodec.encode([defaultPayloadConverter.toPayload(customer)]);
    const rotated = new KeyringPayloadCodec(makeKeyring(generateKey(), oldKey, 'PAYLOAD_KEY'));
    const [opened] = await rotated.decode([sealed!]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual(customer);
    // New payloads are sealed with the new key.
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload(customer)]);
    expect(text(fresh!.metadata![METADATA_KEY_ID])).not.toBe(text(sealed!.metadata![METADATA_KEY_ID]));
  });

  it('refuses a payload sealed with a key it does not have, naming the key', async () => {
    const [sealed] = await new KeyringPayloadCodec(makeKeyring(generateKey(), undefined, 'PAYLOAD_KEY')).encode([defaultPayloadConverter.toPayload(customer)]);
    const kid = text(sealed!.metadata![METADATA_KEY_ID]);
    await expect(codec.decode([sealed!])).rejects.toThrow(`sealed with key ${kid}, which is not configured`);
  });

  it('refuses a payload whose ciphertext was changed', async () => {
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(customer)]);
    const data = Buffer.from(sealed!.data!);
    data[20]! ^= 1;
    await expect(codec.decode([{ ...sealed!, data }])).rejects.toThrow();
  });

  it('passes through payloads that were never encrypted (runs from before PAYLOAD_KEY)', async () => {
    const plain: Payload = defaultPayloadConverter.toPayload(customer);
    const binaryNull: Payload = defaultPayloadConverter.toPayload(undefined);
    expect(await codec.decode([plain, binaryNull])).toEqual([plain, binaryNull]);
  });

  it('encodes and decodes an empty list', async () => {
    expect(await codec.encode([])).toEqual([]);
    expect(await codec.decode([])).toEqual([]);
  });
});
