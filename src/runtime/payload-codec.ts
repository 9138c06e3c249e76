import { fileURLToPath } from 'node:url';
import { METADATA_ENCODING_KEY, ValueError, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { open, seal, type Keyring } from '../domain/keyring.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : '');

/**
 * Encrypts every Temporal payload (workflow and activity arguments and results, signals,
 * queries, failure details) with PAYLOAD_KEY before it leaves the process (SPEC §9): the whole
 * Payload, metadata included, is proto-encoded and sealed, so the server keeps only
 * `binary/encrypted` and the id of the key. As in Temporal's `encryption` sample, so the
 * Temporal UI and CLI decode it through a codec endpoint (api/routes/codec.ts).
 */
export class KeyringPayloadCodec implements PayloadCodec {
  constructor(private readonly ring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const { keyId, sealed } = seal(this.ring, Buffer.from(PayloadMessage.encode(payload).finish()));
      return { metadata: { [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING), [METADATA_KEY_ID]: utf8(keyId) }, data: sealed };
    });
  }

  /** Payloads not encrypted (written before PAYLOAD_KEY was set) pass through as they are. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
      const keyId = text(payload.metadata?.[METADATA_KEY_ID]);
      if (!keyId) throw new ValueError('encrypted payload without an encryption key id');
      if (!payload.data) throw new ValueError('encrypted payload without data');
      return PayloadMessage.decode(open(this.ring, keyId, Buffer.from(payload.data)));
    });
  }
}

/**
 * Default failure converter with `encodeCommonAttributes`: a failure's message and stack go into
 * a payload, which the codec encrypts like any other (an error may quote a number or a text).
 * The SDK takes it by path (it is bundled into the workflow sandbox and `require`d by the worker
 * and clients), hence a plain CommonJS file.
 */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/** What every Temporal client and worker of a process uses: encrypting with PAYLOAD_KEY when it is set. */
export function temporalDataConverter(ring: Keyring | null): DataConverter | undefined {
  if (!ring) return undefined;
  return { payloadCodecs: [new KeyringPayloadCodec(ring)], failureConverterPath };
}
