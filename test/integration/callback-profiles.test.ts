import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeKeyring, openText } from '../../src/domain/keyring.js';
import { Harness, SECRETS_KEY, type Account, type Ctx } from '../helpers/harness.js';

let h: Harness;
let ctx: Ctx;

beforeAll(async () => {
  h = await Harness.create();
  ctx = h.context();
});
afterAll(async () => {
  await h?.close();
});

const ring = makeKeyring(SECRETS_KEY, undefined, 'SECRETS_KEY');
const minimal = (title: string) => ({ title, http_method: 'POST', url: 'https://example.com/mo' });

async function create(a: Account, body: Record<string, unknown>) {
  const res = await a.call('POST', '/callback/profiles', body);
  if (res.status !== 201) throw new Error(`profile: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

describe('callback profile API (Kaleyra shape)', () => {
  it('creates a profile, shows the signing secret once, and never shows the other secrets', async () => {
    const a = await ctx.account();
    const res = await a.call('POST', '/callback/profiles', {
      title: 'Incoming SMS_1',
      http_method: 'post',
      url: 'https://example.com/mo?src=<source>',
      body: { source: '<source>', message: '<message>' },
      headers: { 'X-Tenant': 'acme' },
      auth: { type: 'advanced', url: 'https://auth.example.com/token', client_id: 'cid', client_secret: 'client-s3cret' },
      enc: { algorithm: 'aes-256-gcm', key: '0123456789abcdef0123456789abcdef', iv: '123456789012' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      title: 'Incoming SMS_1', http_method: 'POST', url: 'https://example.com/mo?src=<source>',
      body: { source: '<source>', message: '<message>' }, content_type: 'application/json', headers: { 'X-Tenant': 'acme' },
      auth: { type: 'advanced', url: 'https://auth.example.com/token', client_id: 'cid', body_format: 'form', token_field: 'access_token' },
      enc: { algorithm: 'AES-256-GCM', fields: null },
      status: 'active', disabled_reason: null, consecutive_failures: 0,
    });
    expect(res.body.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const got = await a.call('GET', `/callback/profiles/${res.body.id}`);
    expect(got.status).toBe(200);
    const { signing_secret: _, ...shown } = res.body;
    expect(got.body).toEqual(JSON.parse(JSON.stringify(shown)));
    for (const secret of ['client-s3cret', '0123456789abcdef0123456789abcdef', '123456789012', res.body.signing_secret]) {
      expect(JSON.stringify(got.body)).not.toContain(secret);
    }
    const secret = await a.call('GET', `/callback/profiles/${res.body.id}/signing-secret`);
    expect(secret.body).toEqual({ signing_secret: res.body.signing_secret, previous_secret_valid_until: null });
  });

  it('keeps no secret in clear in PostgreSQL: passwords, client secrets, keys, IVs, signing secrets', async () => {
    const a = await ctx.account();
    const basic = await create(a, { ...minimal('Basic at rest'), auth: { type: 'basic', username: 'user-1', password: 'b4sic-pass-word' } });
    const advanced = await create(a, {
      ...minimal('Advanced at rest'),
      auth: { type: 'advanced', url: 'https://auth.example.com/token', client_id: 'cid', client_secret: 'cl1ent-secret-value' },
      enc: { algorithm: 'aes-256-gcm', key: 'fedcba9876543210fedcba9876543210', iv: 'iv-at-rest-1' },
    });
    const rotated = (await a.call('POST', `/callback/profiles/${advanced.id}/signing-secret/rotate`)).body.signing_secret;
    const inline = (await a.call('GET', '/callback/signing-secret')).body.signing_secret;
    const inlineRotated = (await a.call('POST', '/callback/signing-secret/rotate')).body.signing_secret;
    const secrets = [
      'b4sic-pass-word', 'cl1ent-secret-value', 'fedcba9876543210fedcba9876543210', 'iv-at-rest-1',
      basic.signing_secret, advanced.signing_secret, rotated, inline, inlineRotated,
    ];
    // The rows as PostgreSQL holds them, every column as text, base64 of each secret included.
    const rows = await h.sql<{ t: string }[]>`
      SELECT row_to_json(p)::text AS t FROM callback_profiles p WHERE sid = ${a.sid}
      UNION ALL SELECT row_to_json(s)::text FROM account_signing_secrets s WHERE sid = ${a.sid}`;
    expect(rows).toHaveLength(3);
    const stored = rows.map((r) => r.t).join('\n');
    for (const secret of secrets) {
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain(Buffer.from(secret).toString('base64'));
    }
    // basic: signing secret, password; advanced: signing secret and the previous one, client secret, key, IV; inline: two
    expect(stored.match(/enc:v1:/g)).toHaveLength(2 + 5 + 2);
    // and the API still shows and uses them
    expect((await a.call('GET', `/callback/profiles/${advanced.id}/signing-secret`)).body.signing_secret).toBe(rotated);
    expect((await a.call('GET', '/callback/signing-secret')).body.signing_secret).toBe(inlineRotated);
  });

  it('seals a secret that looks sealed like any other: pasting a sealed value never opens to its secret', async () => {
    const other = await ctx.account();
    const victimProfile = await create(other, minimal('Victim'));
    const a = await ctx.account();
    const [victim] = await h.sql`SELECT signing_secret FROM callback_profiles WHERE id = ${victimProfile.id}`;
    const pasted = victim!.signing_secret as string;
    expect(pasted).toMatch(/^enc:v1:/);
    const p = await create(a, { ...minimal('Pasted'), auth: { type: 'basic', username: 'u', password: pasted } });
    const [row] = await h.sql`SELECT auth FROM callback_profiles WHERE id = ${p.id}`;
    expect(row!.auth.password).not.toBe(pasted);
    // opens to the text given, not to the secret sealed inside it
    expect(openText(ring, row!.auth.password)).toBe(pasted);
  });

  it('a PATCH that moves a profile to another host must give its auth secret again', async () => {
    const a = await ctx.account();
    const basic = await create(a, { ...minimal('Moving basic'), auth: { type: 'basic', username: 'u', password: 'old-pass' } });
    const moved = await a.call('PATCH', `/callback/profiles/${basic.id}`, { url: 'https://attacker.example.net/collect' });
    expect(moved).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_field', field: 'auth.password', message: 'auth.password must be given again when url moves to another host' } },
    });
    // nothing saved: the profile still points at its own host
    expect((await a.call('GET', `/callback/profiles/${basic.id}`)).body.url).toBe('https://example.com/mo');
    // the same host (another path or query) keeps the secret; another port is another host
    expect((await a.call('PATCH', `/callback/profiles/${basic.id}`, { url: 'https://example.com/v2/mo?x=1' })).status).toBe(200);
    expect((await a.call('PATCH', `/callback/profiles/${basic.id}`, { url: 'https://example.com:8443/mo' })).body.error.field).toBe('auth.password');
    const resupplied = await a.call('PATCH', `/callback/profiles/${basic.id}`, { url: 'https://new.example.org/mo', auth: { password: 'new-pass' } });
    expect(resupplied).toMatchObject({ status: 200, body: { url: 'https://new.example.org/mo', auth: { type: 'basic', username: 'u' } } });
    const [row] = await h.sql`SELECT auth FROM callback_profiles WHERE id = ${basic.id}`;
    expect(openText(ring, row!.auth.password)).toBe('new-pass');
    // dropping the auth, or a new auth given whole, brings no stored secret along
    expect((await a.call('PATCH', `/callback/profiles/${basic.id}`, { url: 'https://third.example.org/', auth: null })).status).toBe(200);

    const adv = await create(a, {
      ...minimal('Moving advanced'),
      auth: { type: 'advanced', url: 'https://auth.example.com/token', client_id: 'cid', client_secret: 'old-secret' },
    });
    const tokenMoved = await a.call('PATCH', `/callback/profiles/${adv.id}`, { auth: { url: 'https://evil.example.net/token' } });
    expect(tokenMoved.body.error).toMatchObject({ field: 'auth.client_secret', message: 'auth.client_secret must be given again when auth.url moves to another host' });
    // the bearer token goes to url: moving url needs the client secret too
    const urlMoved = await a.call('PATCH', `/callback/profiles/${adv.id}`, { url: 'https://evil.example.net/mo' });
    expect(urlMoved.body.error).toMatchObject({ field: 'auth.client_secret', message: 'auth.client_secret must be given again when url moves to another host' });
    expect((await a.call('PATCH', `/callback/profiles/${adv.id}`, { auth: { client_id: 'cid2' } })).status).toBe(200);
    expect((await a.call('GET', `/callback/profiles/${adv.id}`)).body).toMatchObject({ url: 'https://example.com/mo', auth: { url: 'https://auth.example.com/token', client_id: 'cid2' } });
  });

  it('lists with limit, offset and a title filter', async () => {
    const a = await ctx.account();
    for (const t of ['Orders hook', 'orders_backup', 'CRM backup2']) await create(a, minimal(t));
    const all = await a.call('GET', '/callback/profiles');
    expect(all.body.data.map((p: { title: string }) => p.title)).toEqual(['Orders hook', 'orders_backup', 'CRM backup2']);
    const page = await a.call('GET', '/callback/profiles?limit=1&offset=1');
    expect(page.body).toMatchObject({ limit: 1, offset: 1, data: [{ title: 'orders_backup' }] });
    const orders = await a.call('GET', '/callback/profiles?title=ORDERS');
    expect(orders.body.data.map((p: { title: string }) => p.title)).toEqual(['Orders hook', 'orders_backup']);
    // % and _ are literal in the filter, not LIKE wildcards
    expect((await a.call('GET', '/callback/profiles?title=%25')).body.data).toHaveLength(0);
    expect((await a.call('GET', '/callback/profiles?title=m_b')).body.data).toHaveLength(0);
    expect((await a.call('GET', '/callback/profiles?title=s_b')).body.data.map((p: { title: string }) => p.title)).toEqual(['orders_backup']);
    const bad = await a.call('GET', '/callback/profiles?limit=0');
    expect(bad).toMatchObject({ status: 400, body: { error: { field: 'limit' } } });
  });

  it('PATCHes some fields, keeps secrets not named, and re-checks the whole profile', async () => {
    const a = await ctx.account();
    const p = await create(a, { ...minimal('Patch me'), auth: { type: 'basic', username: 'u', password: 'first-pass' } });
    const renamed = await a.call('PATCH', `/callback/profiles/${p.id}`, { title: 'Patched', auth: { username: 'u2' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ title: 'Patched', url: 'https://example.com/mo', auth: { type: 'basic', username: 'u2' } });
    const [row] = await h.sql`SELECT auth FROM callback_profiles WHERE id = ${p.id}`;
    expect(row!.auth).toEqual({ type: 'basic', username: 'u2', password: expect.stringMatching(/^enc:v1:/) });
    expect(openText(ring, row!.auth.password)).toBe('first-pass');

    await a.call('PATCH', `/callback/profiles/${p.id}`, { body: 'text=<message>', content_type: 'text/plain' });
    const toGet = await a.call('PATCH', `/callback/profiles/${p.id}`, { http_method: 'GET' });
    expect(toGet).toMatchObject({ status: 400, body: { error: { code: 'invalid_field', field: 'body', message: 'body is only sent with http_method POST' } } });
    const ok = await a.call('PATCH', `/callback/profiles/${p.id}`, { http_method: 'GET', body: null, content_type: null, auth: null });
    expect(ok.body).toMatchObject({ http_method: 'GET', body: null, content_type: null, auth: null });

    const off = await a.call('PATCH', `/callback/profiles/${p.id}`, { status: 'disabled' });
    expect(off.body).toMatchObject({ status: 'disabled', disabled_reason: 'disabled by the owner' });
    const on = await a.call('PATCH', `/callback/profiles/${p.id}`, { status: 'active' });
    expect(on.body).toMatchObject({ status: 'active', disabled_reason: null, disabled_at: null });
  });

  it('answers every broken rule with a 4xx naming the field, and saves nothing', async () => {
    const a = await ctx.account();
    await create(a, minimal('Taken title'));
    const cases: [Record<string, unknown>, number, string][] = [
      [{ http_method: 'POST', url: 'https://x.test' }, 400, 'title'],
      [minimal('ab'), 400, 'title'],
      [minimal('no/slashes'), 400, 'title'],
      [minimal('taken TITLE'), 409, 'title'],
      [{ ...minimal('Method'), http_method: 'DELETE' }, 400, 'http_method'],
      [{ ...minimal('Url'), url: 'not a url' }, 400, 'url'],
      [{ ...minimal('Url scheme'), url: 'ftp://x.test/mo' }, 400, 'url'],
      [{ ...minimal('Url credentials'), url: 'https://user:pass@x.test/mo' }, 400, 'url'],
      [{ ...minimal('Token url credentials'), auth: { type: 'advanced', url: 'https://id:secret@a.test/t', client_id: 'c', client_secret: 's' } }, 400, 'auth.url'],
      [{ ...minimal('Content type CRLF'), content_type: 'application/json\r\n;x' }, 400, 'content_type'],
      [{ ...minimal('Get body'), http_method: 'GET', body: 'x' }, 400, 'body'],
      [{ ...minimal('Body type'), body: 42 }, 400, 'body'],
      [{ ...minimal('Content type'), content_type: 'json' }, 400, 'content_type'],
      [{ ...minimal('Headers'), headers: { 'X-Ok': 'a\nb' } }, 400, 'headers.X-Ok'],
      [{ ...minimal('Reserved'), headers: { 'Content-Type': 'text/plain' } }, 400, 'headers.Content-Type'],
      [{ ...minimal('Auth type'), auth: { type: 'oauth3' } }, 400, 'auth.type'],
      [{ ...minimal('Basic'), auth: { type: 'basic', username: 'u' } }, 400, 'auth.password'],
      [{ ...minimal('Advanced'), auth: { type: 'advanced', url: 'https://a.test/t', client_secret: 's' } }, 400, 'auth.client_id'],
      [{ ...minimal('Advanced url'), auth: { type: 'advanced', url: 'nope', client_id: 'c', client_secret: 's' } }, 400, 'auth.url'],
      [{ ...minimal('Enc algorithm'), enc: { algorithm: 'DES', key: 'k', iv: 'i' } }, 400, 'enc.algorithm'],
      [{ ...minimal('Enc key'), enc: { algorithm: 'AES-128-CFB', key: 'short', iv: 'abcdefghijklmnop' } }, 400, 'enc.key'],
      [{ ...minimal('Enc iv'), enc: { algorithm: 'AES-128-CFB', key: '0123456789abcdef', iv: 'short' } }, 400, 'enc.iv'],
      [{ ...minimal('Status'), status: 'auto_disabled' }, 400, 'status'],
      [{ ...minimal('Unknown'), events: ['mo'] }, 400, 'events'],
    ];
    for (const [body, status, field] of cases) {
      const res = await a.call('POST', '/callback/profiles', body);
      expect({ body, status: res.status, field: res.body?.error?.field }).toEqual({ body, status, field });
      expect(res.body.error.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}|exists`));
    }
    const notJson = await a.call('POST', '/callback/profiles', 'not json');
    expect(notJson).toMatchObject({ status: 400, body: { error: { field: 'body' } } });
    expect((await a.call('GET', '/callback/profiles')).body.data).toHaveLength(1);
  });

  it('refuses private and local destinations at save time when private networks are not allowed', async () => {
    const strict = h.context({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    const a = await strict.account();
    const advanced = (url: string) => ({ type: 'advanced', url, client_id: 'c', client_secret: 's' });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...minimal('Private'), url: 'http://10.0.0.5/hook' }, 'url', 'url must not point to a private or local network: 10.0.0.5 is a private address'],
      [{ ...minimal('Metadata'), url: 'http://169.254.169.254/latest/meta-data/' }, 'url', 'url must not point to a private or local network: 169.254.169.254 is a link-local address'],
      [{ ...minimal('Loopback v6'), url: 'http://[::1]:8080/x' }, 'url', 'url must not point to a private or local network: ::1 is a loopback address'],
      [{ ...minimal('Localhost'), url: 'http://localhost:4000/mo' }, 'url', 'url must not point to a private or local network: localhost is a loopback address'],
      [{ ...minimal('Token url'), auth: advanced('http://192.168.1.10/token') }, 'auth.url', 'auth.url must not point to a private or local network: 192.168.1.10 is a private address'],
    ];
    for (const [body, field, message] of cases) {
      const res = await a.call('POST', '/callback/profiles', body);
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: { code: 'invalid_field', field, message } });
    }
    // names are judged when the worker connects
    const p = await create(a, { ...minimal('Public'), url: 'http://internal-service:8080/mo', auth: advanced('https://auth.example.com/t') });
    const patched = await a.call('PATCH', `/callback/profiles/${p.id}`, { url: 'http://100.64.0.1/x', auth: { client_secret: 'again' } });
    expect(patched).toMatchObject({ status: 400, body: { error: { field: 'url', message: expect.stringContaining('100.64.0.1 is a shared (CGNAT) address') } } });
    const token = await a.call('PATCH', `/callback/profiles/${p.id}`, { auth: { url: 'http://127.0.0.1:9000/t', client_secret: 'again' } });
    expect(token).toMatchObject({ status: 400, body: { error: { field: 'auth.url' } } });
    expect((await a.call('GET', `/callback/profiles/${p.id}`)).body).toMatchObject({ url: 'http://internal-service:8080/mo', auth: { url: 'https://auth.example.com/t' } });

    // the tests' own context allows them: the local stack, where a webhook on localhost must work
    const b = await ctx.account();
    expect((await b.call('POST', '/callback/profiles', { ...minimal('Local'), url: 'http://localhost:4000/mo' })).status).toBe(201);
  });

  it('refuses to delete a profile a receive configuration names, and deletes it once unused', async () => {
    const a = await ctx.account();
    const p = await create(a, minimal('In use'));
    const cfg = await a.config({ keyword: 'HOOK', trigger: { callback_profile_id: p.id } });
    const refused = await a.call('DELETE', `/callback/profiles/${p.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'profile_in_use', field: 'id' });
    expect(refused.body.error.message).toContain(cfg.id);

    const put = await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'HOOK', trigger: { url: 'https://example.com/x' } });
    expect(put.status).toBe(200);
    expect((await a.call('DELETE', `/callback/profiles/${p.id}`)).status).toBe(204);
    expect((await a.call('GET', `/callback/profiles/${p.id}`)).status).toBe(404);
    const again = await a.config({ keyword: 'HOOK2', trigger: { callback_profile_id: p.id } }).catch((e: Error) => e.message);
    expect(again).toMatch(/400 .*trigger\.callback_profile_id/);
  });

  it("keeps accounts apart: another account's profile is not found and cannot be named", async () => {
    const a = await ctx.account();
    const b = await ctx.account();
    const p = await create(a, minimal('Private'));
    for (const [method, path, body] of [
      ['GET', `/callback/profiles/${p.id}`, undefined],
      ['PATCH', `/callback/profiles/${p.id}`, { title: 'Mine now' }],
      ['DELETE', `/callback/profiles/${p.id}`, undefined],
      ['GET', `/callback/profiles/${p.id}/signing-secret`, undefined],
      ['POST', `/callback/profiles/${p.id}/signing-secret/rotate`, undefined],
    ] as const) {
      expect((await b.call(method, path, body)).status).toBe(404);
    }
    expect((await b.call('GET', '/callback/profiles')).body.data).toHaveLength(0);
    const cfg = await b.call('POST', '/receive-configs', { number: b.number, keyword: 'STEAL', trigger: { callback_profile_id: p.id } });
    expect(cfg).toMatchObject({ status: 400, body: { error: { field: 'trigger.callback_profile_id' } } });
    // the same title is fine in another account
    expect((await b.call('POST', '/callback/profiles', minimal('Private'))).status).toBe(201);
  });

  it('rotates signing secrets, keeping the previous one valid for a day', async () => {
    const a = await ctx.account();
    const p = await create(a, minimal('Rotate'));
    const rotated = await a.call('POST', `/callback/profiles/${p.id}/signing-secret/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.signing_secret).toMatch(/^whsec_/);
    expect(rotated.body.signing_secret).not.toBe(p.signing_secret);
    const until = Date.parse(rotated.body.previous_secret_valid_until);
    expect(until - Date.now()).toBeGreaterThan(23 * 3600_000);
    const [row] = await h.sql`SELECT previous_signing_secret FROM callback_profiles WHERE id = ${p.id}`;
    expect(openText(ring, row!.previous_signing_secret)).toBe(p.signing_secret);

    const inline = await a.call('GET', '/callback/signing-secret');
    expect(inline.body).toEqual({ signing_secret: expect.stringMatching(/^whsec_/), previous_secret_valid_until: null });
    expect((await a.call('GET', '/callback/signing-secret')).body.signing_secret).toBe(inline.body.signing_secret);
    const next = await a.call('POST', '/callback/signing-secret/rotate');
    expect(next.body.signing_secret).not.toBe(inline.body.signing_secret);
  });

  it('lists the new routes in the OpenAPI document, with request schemas from zod', async () => {
    const doc = await ctx.request('GET', '/openapi.json');
    const paths = doc.body.paths;
    expect(paths['/v1/{sid}/callback/profiles'].post.requestBody.content['application/json'].schema.properties.http_method.enum).toEqual(['POST', 'GET']);
    expect(Object.keys(paths['/v1/{sid}/callback/profiles/{id}'])).toEqual(['get', 'patch', 'delete']);
    expect(paths['/v1/{sid}/deliveries'].get.parameters.map((p: { name: string }) => p.name)).toContain('status');
    expect(paths['/v1/{sid}/deliveries/replay'].post.requestBody.content['application/json'].schema.required).toEqual(['since']);
  });
});
