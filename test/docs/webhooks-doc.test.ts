import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ENC_ALGORITHMS, encryptValue, encryptVariables } from '../../src/domain/encryption.js';
import { generateSigningSecret, signatureHeaders } from '../../src/domain/signing.js';
import { buildVariables, defaultWebhookBody } from '../../src/domain/variables.js';
import { renderWebhook } from '../../src/domain/webhook.js';

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

  it("decrypts only the encrypted fields of the doc's example profile (enc.fields: [\"message\"])", () => {
    const enc = { algorithm: 'AES-256-GCM' as const, key: '0123456789abcdef0123456789ABCDEF', iv: 'nonce-12byte', fields: ['message'] };
    const vars = buildVariables({
      id: 'm1', kid: 'cfg-1', source: '+919812345678', recipient: '+919876543210', message: 'JOIN Priya Pune',
      keyword: 'JOIN', operator: null, circle: null, timestamp: '2026-04-17 13:05:20',
    });
    const plain = defaultWebhookBody(vars);
    const sent = JSON.parse(renderWebhook({ url: 'https://hooks.example.com/sms' }, encryptVariables(vars, enc)).body!);
    expect(sent.message).not.toBe(plain.message);
    expect(sent.source).toBe(plain.source); // not encrypted: decrypting it would fail GCM's check
    expect(receiver.decryptBody(enc.algorithm, enc.key, enc.iv, sent, enc.fields)).toEqual(plain);

    // `parts` covers every parts[n]; with your own template, the body's keys are named
    const withParts = { ...enc, fields: ['message', 'parts'] };
    const sentParts = JSON.parse(renderWebhook({ url: 'https://hooks.example.com/sms' }, encryptVariables(vars, withParts)).body!);
    expect(receiver.decryptBody(enc.algorithm, enc.key, enc.iv, sentParts, withParts.fields)).toEqual(plain);
    const own = renderWebhook({ url: 'https://hooks.example.com/sms', body: '{"from": "<source>", "text": "<message>", "code": "<parts[2]>"}' }, encryptVariables(vars, enc));
    expect(receiver.decryptBody(enc.algorithm, enc.key, enc.iv, JSON.parse(own.body!), ['text'])).toEqual({ from: '+919812345678', text: 'JOIN Priya Pune', code: 'Priya' });
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
