// A webhook receiver's side, in plain Node.js (18+), no dependencies: verify the signature,
// then decrypt the encrypted fields. Copy it; docs/webhooks.md explains each step.
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Verifies a delivery (Standard Webhooks). `headers` are Node's lower-cased `req.headers`;
 * `payload` is the raw body as received (for a GET, `req.url`: path and query).
 * Returns true, or throws an Error saying why the delivery must be refused.
 */
export function verifyWebhook(secret, headers, payload, toleranceSeconds = 300) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) throw new Error('missing webhook headers');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) throw new Error('timestamp out of tolerance');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = Buffer.from('v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${payload}`).digest('base64'));
  for (const candidate of signatures.split(' ')) {
    const given = Buffer.from(candidate);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  }
  throw new Error('no matching signature');
}

/**
 * Decrypts one encrypted field value. `algorithm` is the profile's, like 'AES-256-GCM';
 * `key` and `iv` are the strings you gave the profile. A GCM value is its own 12-byte nonce,
 * then the ciphertext, then a 16-byte tag (the profile's `iv` is not used); a CFB value is
 * the ciphertext under the profile's `iv`.
 */
export function decryptField(algorithm, key, iv, value) {
  const data = Buffer.from(value, 'base64');
  const name = algorithm.toLowerCase();
  if (name.endsWith('gcm')) {
    const decipher = createDecipheriv(name, Buffer.from(key, 'utf8'), data.subarray(0, 12), { authTagLength: 16 });
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString('utf8');
  }
  const decipher = createDecipheriv(name, Buffer.from(key, 'utf8'), Buffer.from(iv, 'utf8'));
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
}

/**
 * Decrypts the encrypted fields of a JSON body; the others are returned as they are.
 * `fields` names the body's fields that hold an encrypted value. With the default body that is
 * the profile's `enc.fields` (`parts` stands for every `parts[n]`), or, when the profile has
 * no `fields`, every key but description, status and status_trace. With your own body template,
 * name the keys whose value is exactly one encrypted variable, like `{"text": "<message>"}`.
 */
export function decryptBody(algorithm, key, iv, body, fields) {
  const encrypted = (name) => fields.includes(name) || fields.includes(name.replace(/\[\d+\]$/, ''));
  return Object.fromEntries(
    Object.entries(body).map(([name, value]) => [
      name,
      typeof value === 'string' && encrypted(name) ? decryptField(algorithm, key, iv, value) : value,
    ]),
  );
}

// Usage, with node:http:
//
//   import { createServer } from 'node:http';
//   createServer((req, res) => {
//     let raw = '';
//     req.on('data', (chunk) => (raw += chunk));
//     req.on('end', () => {
//       try {
//         verifyWebhook(process.env.WEBHOOK_SECRET, req.headers, req.method === 'GET' ? req.url : raw);
//       } catch {
//         res.writeHead(401).end();
//         return;
//       }
//       // a profile with the default body and enc.fields ["message"]: only `message` is encrypted
//       const body = decryptBody('AES-256-GCM', process.env.ENC_KEY, process.env.ENC_IV, JSON.parse(raw), ['message']);
//       // deduplicate on req.headers['webhook-id'], then handle `body`
//       res.writeHead(204).end();
//     });
//   }).listen(8080);
