import { describe, expect, it } from 'vitest';
import { fromZod } from '../../src/api/errors.js';
import { basicAuthorization, parseTokenResponse, tokenRequest, type AdvancedAuth } from '../../src/domain/callback-auth.js';
import {
  callbackProfileInputSchema,
  callbackProfilePatchSchema,
  mergeProfilePatch,
  profileWebhook,
  publicAuth,
  type StoredProfile,
} from '../../src/domain/callback-profile.js';

const base = { title: 'Incoming SMS', http_method: 'POST', url: 'https://example.com/mo' };

/** The field and message the API would answer with. */
function problem(input: Record<string, unknown>) {
  const r = callbackProfileInputSchema.safeParse(input);
  if (r.success) return null;
  const e = fromZod(r.error);
  return { field: e.field, message: e.message };
}

describe('callback profile rules', () => {
  it('takes a minimal profile and upper-cases the method', () => {
    const r = callbackProfileInputSchema.parse({ ...base, http_method: 'post' });
    expect(r.http_method).toBe('POST');
  });

  it('names the field of every broken rule', () => {
    expect(problem({ ...base, title: 'ab' })).toEqual({ field: 'title', message: 'must be at least 3 characters' });
    expect(problem({ ...base, title: 'bad/title' })?.field).toBe('title');
    expect(problem({ http_method: 'POST', url: 'https://x.test' })).toEqual({ field: 'title', message: 'is required' });
    expect(problem({ ...base, http_method: 'PUT' })).toEqual({ field: 'http_method', message: 'must be POST or GET' });
    expect(problem({ ...base, url: 'ftp://x.test' })).toEqual({ field: 'url', message: 'must be an http or https URL' });
    expect(problem({ ...base, http_method: 'GET', body: { a: '<source>' } })).toEqual({ field: 'body', message: 'is only sent with http_method POST' });
    expect(problem({ ...base, body: 42 })?.field).toBe('body');
    expect(problem({ ...base, body: { a: 1 }, content_type: 'text/plain' })?.field).toBe('content_type');
    expect(problem({ ...base, headers: { 'bad header': 'x' } })).toEqual({ field: 'headers.bad header', message: 'is not an HTTP header name' });
    expect(problem({ ...base, headers: { 'X-Ok': 'a\r\nb' } })?.field).toBe('headers.X-Ok');
    expect(problem({ ...base, headers: { 'Webhook-Signature': 'x' } })).toEqual({ field: 'headers.Webhook-Signature', message: 'is set by the platform' });
    expect(problem({ ...base, headers: { Authorization: 'Token t' }, auth: { type: 'basic', username: 'u', password: 'p' } })?.field).toBe('headers.Authorization');
    expect(problem({ ...base, auth: { type: 'digest' } })?.field).toBe('auth.type');
    expect(problem({ ...base, auth: 'secret' })?.field).toBe('auth');
    expect(problem({ ...base, auth: { type: 'basic', username: 'a:b', password: 'p' } })?.field).toBe('auth.username');
    expect(problem({ ...base, auth: { type: 'advanced', url: 'https://auth.test/token', client_id: 'c' } })).toEqual({ field: 'auth.client_secret', message: 'is required' });
    expect(problem({ ...base, enc: { algorithm: 'AES-512-CFB', key: 'k', iv: 'i' } })?.field).toBe('enc.algorithm');
    expect(problem({ ...base, enc: { algorithm: 'aes-256-gcm', key: 'short', iv: '123456789012' } })).toEqual({ field: 'enc.key', message: 'must be 32 bytes (characters) for AES-256-GCM' });
    expect(problem({ ...base, status: 'auto_disabled' })?.field).toBe('status');
    expect(problem({ ...base, channel: 'sms' })).toEqual({ field: 'channel', message: 'is not a known field' });
  });

  it('refuses what no request could be sent with: credentials in a URL, line breaks in the content type', () => {
    const credentials = "must not contain a user name or password (give them as a callback profile's auth)";
    expect(problem({ ...base, url: 'https://user:pass@hooks.example.com/mo' })).toEqual({ field: 'url', message: credentials });
    expect(problem({ ...base, auth: { type: 'advanced', url: 'https://id:secret@auth.test/token', client_id: 'c', client_secret: 's' } }))
      .toEqual({ field: 'auth.url', message: credentials });
    const lineBreaks = 'must not contain line breaks or control characters';
    expect(problem({ ...base, content_type: 'application/json\r\n;x' })).toEqual({ field: 'content_type', message: lineBreaks });
    expect(problem({ ...base, content_type: 'text/plain; a=\u0000' })).toEqual({ field: 'content_type', message: lineBreaks });
  });

  it('allows an Authorization header of its own when the profile has no auth', () => {
    expect(problem({ ...base, headers: { Authorization: 'Token t', 'X-Tenant': 'a' } })).toBeNull();
  });
});

describe('PATCH', () => {
  const stored: StoredProfile = {
    title: 'Profile 1', http_method: 'POST', url: 'https://x.test/a', body: null, content_type: null, headers: {},
    auth: { type: 'advanced', url: 'https://auth.test/t', client_id: 'id', client_secret: 'secret' },
    enc: { algorithm: 'AES-128-CFB', key: '0123456789abcdef', iv: 'abcdefghijklmnop' },
    status: 'auto_disabled',
  };
  const merged = (patch: Record<string, unknown>) => callbackProfileInputSchema.safeParse(mergeProfilePatch(stored, callbackProfilePatchSchema.parse(patch)));

  it('keeps secrets that the patch does not name, and the status unless set', () => {
    const r = merged({ auth: { url: 'https://auth.test/v2' } });
    expect(r.success && r.data.auth).toEqual({ type: 'advanced', url: 'https://auth.test/v2', client_id: 'id', client_secret: 'secret' });
    expect(r.success && r.data.status).toBeUndefined();
    expect(merged({ status: 'active' }).data?.status).toBe('active');
  });

  it('needs the whole auth when its type changes, and a new key for a new key size', () => {
    expect(fromZod(merged({ auth: { type: 'basic', username: 'u' } }).error!).field).toBe('auth.password');
    expect(fromZod(merged({ enc: { algorithm: 'AES-256-CFB' } }).error!).field).toBe('enc.key');
    expect(merged({ auth: null, enc: null }).data).toMatchObject({ auth: null, enc: null });
  });

  it('checks the merged profile: a switch to GET with a stored body is refused', () => {
    const withBody = { ...stored, body: { a: '<message>' } };
    const r = callbackProfileInputSchema.safeParse(mergeProfilePatch(withBody, callbackProfilePatchSchema.parse({ http_method: 'GET' })));
    expect(fromZod(r.error!).field).toBe('body');
  });
});

describe('profile helpers', () => {
  it('shows auth without its secrets', () => {
    expect(publicAuth({ type: 'basic', username: 'u', password: 'p' })).toEqual({ type: 'basic', username: 'u' });
    expect(JSON.stringify(publicAuth({ type: 'advanced', url: 'https://a.test', client_id: 'c', client_secret: 's3cr3t' }))).not.toContain('s3cr3t');
  });

  it('renders a JSON object body as a JSON template', () => {
    expect(profileWebhook({ url: 'https://x.test', http_method: 'POST', body: { m: '<message>' }, content_type: null })).toEqual({
      url: 'https://x.test', method: 'POST', body: '{"m":"<message>"}', content_type: null,
    });
  });
});

describe('callback authentication', () => {
  const auth: AdvancedAuth = { type: 'advanced', url: 'https://auth.test/token', client_id: 'cid', client_secret: 'c s&c', scope: 'hooks' };

  it('builds the Basic header of RFC 7617', () => {
    expect(basicAuthorization({ type: 'basic', username: 'Aladdin', password: 'open sesame' })).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });

  it('posts the client credentials as an OAuth form, or as JSON', () => {
    const form = tokenRequest(auth);
    expect(form.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(form.body))).toEqual({ grant_type: 'client_credentials', client_id: 'cid', client_secret: 'c s&c', scope: 'hooks' });
    const json = tokenRequest({ ...auth, body_format: 'json' });
    expect(JSON.parse(json.body)).toMatchObject({ client_id: 'cid', client_secret: 'c s&c' });
  });

  it("reads Kaleyra's sample token answer (expires_in as a string) and renews early", () => {
    const now = 1_000_000;
    expect(parseTokenResponse({ token_type: 'Bearer', expires_in: '3599', access_token: 'abc' }, null, now)).toEqual({ token: 'abc', expiresAt: now + 3599_000 - 30_000 });
    expect(parseTokenResponse({ expires_on: 2000, access_token: 'x' }, null, now)).toEqual({ token: 'x', expiresAt: 2_000_000 - 30_000 });
    expect(parseTokenResponse({ data: { token: 't' }, expires_in: 20 }, 'data.token', now)).toEqual({ token: 't', expiresAt: now + 10_000 });
    expect(parseTokenResponse({ token: 't' }, null, now)).toEqual({ problem: 'the token answer has no "access_token"' });
  });
});
