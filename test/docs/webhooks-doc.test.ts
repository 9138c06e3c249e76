import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ENC_ALGORITHMS, encryptValue } from '../../src/domain/encryption.js';
import { generateSigningSecret, signatureHeaders } from '../../src/domain/signing.js';

const examplePath = new URL('../../docs/examples/webhook-receiver.mjs', import.meta.url);
const receiver = await import(examplePath.href);

describe('docs/webhooks.md receiver code', () => {
  it('is the tested example file, verbatim', async () => {
    const [doc, code] = await Promise.all([readFile(new URL('../../docs/webhooks.md', import.meta.url), 'utf8'), readFile(examplePath, 'utf8')]);
    expect(doc).toContain('```js\n' + code + '```');
  });

  it('decrypts what every algorithm encrypts', () => {
    for (const algorithm of ENC_ALGORITHMS) {
      const key = 'k'.repeat(Number(algorithm.slice(4, 7)) / 8);
      const iv = algorithm.endsWith('GCM') ? 'twelve bytes' : 'sixteen bytes iv';
      const value = encryptValue({ algorithm, key, iv }, 'JOIN प्रिया "x"');
      expect(receiver.decryptField(algorithm, key, iv, value)).toBe('JOIN प्रिया "x"');
    }
  });

  it('verifies a signature made with the secret, during a rotation too, and refuses others', () => {
    const secret = generateSigningSecret();
    const old = generateSigningSecret();
    const ts = Math.floor(Date.now() / 1000);
    expect(receiver.verifyWebhook(old, signatureHeaders([secret, old], 'mo-1-trigger', ts, 'b'), 'b')).toBe(true);
    expect(() => receiver.verifyWebhook(generateSigningSecret(), signatureHeaders([secret], 'mo-1-trigger', ts, 'b'), 'b')).toThrow('no matching signature');
    expect(() => receiver.verifyWebhook(secret, signatureHeaders([secret], 'mo-1-trigger', ts - 3600, 'b'), 'b')).toThrow('timestamp out of tolerance');
  });
});
