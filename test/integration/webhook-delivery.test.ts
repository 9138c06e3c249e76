import { describe, expect, it } from 'vitest';
import { generateSigningSecret } from '../../src/domain/signing.js';
import { randomId, type Account } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';

// The receiver code docs/webhooks.md tells businesses to copy.
const receiver = await import(new URL('../../docs/examples/webhook-receiver.mjs', import.meta.url).href);

const s = temporalSuite();

async function profile(a: Account, body: Record<string, unknown>) {
  const res = await a.call('POST', '/callback/profiles', { title: `P ${randomId('p')}`, http_method: 'POST', ...body });
  if (res.status !== 201) throw new Error(`profile: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; signing_secret: string };
}

describe('webhook deliveries through callback profiles', () => {
  it('sends basic auth, the extra headers, and a Standard Webhooks signature that verifies only with the secret', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const p = await profile(a, {
      url: s.hooks.url('/basic'),
      headers: { 'X-Tenant': 'acme' },
      auth: { type: 'basic', username: 'hook-user', password: 'p@ss:word' },
    });
    await a.config({ keyword: 'BASIC', trigger: { callback_profile_id: p.id } });
    const id = randomId();
    await a.send('basic one', { id });
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.actions.trigger).toBe('succeeded');

    const [req] = await s.hooks.waitFor('/basic');
    expect(req!.headers.authorization).toBe(`Basic ${Buffer.from('hook-user:p@ss:word').toString('base64')}`);
    expect(req!.headers['x-tenant']).toBe('acme');
    expect(req!.headers['webhook-id']).toBe(`mo-${id}-trigger`);
    expect(Number(req!.headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
    expect(req!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(receiver.verifyWebhook(p.signing_secret, req!.headers, req!.body)).toBe(true);
    expect(() => receiver.verifyWebhook(generateSigningSecret(), req!.headers, req!.body)).toThrow('no matching signature');
    expect(() => receiver.verifyWebhook(p.signing_secret, req!.headers, req!.body.replace('basic', 'BASIC'))).toThrow('no matching signature');
    // The secrets are read at attempt time: they are not in the run's history.
    // Payload data is base64 in the history's JSON form: decode it to search the text.
    const history = JSON.stringify(await ctx.client.workflow.getHandle(`mo-${id}`).fetchHistory(), (k, v) =>
      k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v);
    expect(history).toContain('basic one'); // payloads are readable here: the request is in the history
    expect(history).not.toContain('p@ss:word');
    expect(history).not.toContain(p.signing_secret.slice(6));
  });

  it('fetches an advanced-auth token once, reuses it, and fetches a new one after a 401', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const tokenPath = `/token-${randomId()}`;
    const hookPath = `/adv-${randomId()}`;
    s.hooks.script(tokenPath, [
      { status: 200, body: JSON.stringify({ token_type: 'Bearer', expires_in: '3599', access_token: 'tok-1' }), headers: { 'content-type': 'application/json' } },
      { status: 200, body: JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'tok-2' }), headers: { 'content-type': 'application/json' } },
    ]);
    s.hooks.script(hookPath, [{ status: 200 }, { status: 200 }, { status: 401, body: 'token expired' }, { status: 200 }]);
    const p = await profile(a, {
      url: s.hooks.url(hookPath),
      auth: { type: 'advanced', url: s.hooks.url(tokenPath), client_id: 'client-1', client_secret: 'cl!ent secret' },
    });
    await a.config({ keyword: 'ADV', trigger: { callback_profile_id: p.id } });

    const ids = [randomId(), randomId(), randomId()];
    await ctx.withWorker(async () => {
      for (const id of ids) {
        await a.send('adv', { id });
        expect((await ctx.result(`mo-${id}`)).actions.trigger).toBe('succeeded');
      }
    });

    const tokenRequests = s.hooks.to(tokenPath);
    expect(tokenRequests).toHaveLength(2);
    expect(tokenRequests[0]!.method).toBe('POST');
    expect(tokenRequests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(tokenRequests[0]!.body))).toEqual({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'cl!ent secret' });
    expect(s.hooks.to(hookPath).map((r) => [r.headers['webhook-id'], r.headers.authorization])).toEqual([
      [`mo-${ids[0]}-trigger`, 'Bearer tok-1'],
      [`mo-${ids[1]}-trigger`, 'Bearer tok-1'],
      [`mo-${ids[2]}-trigger`, 'Bearer tok-1'],
      [`mo-${ids[2]}-trigger`, 'Bearer tok-2'],
    ]);
    const attempts = await s.h.sql`SELECT attempt, status_code, error, response_head FROM delivery_attempts WHERE delivery_id = ${`mo-${ids[2]}-trigger`} ORDER BY attempt`;
    expect(attempts.map((r) => [r.attempt, r.status_code, r.error, r.response_head])).toEqual([
      [1, 401, 'HTTP 401: token refused, fetching a new one', 'token expired'],
      [2, 200, null, ''],
    ]);
  });

  it('encrypts every field of the default body but the constants (AES-256-GCM), a fresh nonce each time, so the documented receiver code decrypts it back', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const enc = { algorithm: 'AES-256-GCM', key: 'k'.repeat(16) + '0123456789ABCDEF', iv: 'nonce-12byte' };
    const p = await profile(a, { url: s.hooks.url('/enc-gcm'), enc });
    const cfg = await a.config({ keyword: 'SECRET', template: 'SECRET <name>', trigger: { callback_profile_id: p.id } });
    const id = randomId();
    await a.send('secret Priya "quoted" नमस्ते', { id, operator: 'JIO', received_at: '2026-04-17T13:05:20Z' });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));

    const [req] = await s.hooks.waitFor('/enc-gcm');
    expect(receiver.verifyWebhook(p.signing_secret, req!.headers, req!.body)).toBe(true);
    const sent = JSON.parse(req!.body);
    expect(sent.message).not.toContain('Priya');
    // no enc.fields: every field of the default body is encrypted, but the constant ones
    const constants = ['description', 'status', 'status_trace'];
    expect(receiver.decryptBody(enc.algorithm, enc.key, enc.iv, sent, Object.keys(sent).filter((k) => !constants.includes(k)))).toEqual({
      source: '+919812345678', recipient: a.number, description: 'Message has been sent', status: 'SENT', status_trace: 'SENT',
      id, kid: cfg.id, message: 'secret Priya "quoted" नमस्ते', keyword: 'SECRET', operator: 'JIO', circle: '',
      timestamp: '2026-04-17 13:05:20', 'parts[1]': 'secret', 'parts[2]': 'Priya', 'parts[3]': '"quoted"', 'parts[4]': 'नमस्ते',
    });

    // A second delivery of the same profile: every value has a nonce of its own, and the
    // documented code decrypts it too.
    const id2 = randomId();
    await a.send('secret Priya "quoted" नमस्ते', { id: id2, operator: 'JIO' });
    await ctx.withWorker(() => ctx.result(`mo-${id2}`));
    const second = JSON.parse(s.hooks.to('/enc-gcm').find((r) => r.headers['webhook-id'] === `mo-${id2}-trigger`)!.body);
    const nonce = (v: string) => Buffer.from(v, 'base64').subarray(0, 12).toString('hex');
    expect(nonce(second.message)).not.toBe(nonce(sent.message));
    expect(nonce(sent.message)).not.toBe(nonce(sent.source));
    expect(receiver.decryptField(enc.algorithm, enc.key, enc.iv, second.message)).toBe('secret Priya "quoted" नमस्ते');
  });

  it('encrypts only the chosen fields (AES-128-CFB) in a GET URL, and signs the path and query', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const enc = { algorithm: 'AES-128-CFB', key: 'sixteen byte key', iv: 'sixteen bytes iv', fields: ['message', 'source'] };
    const p = await profile(a, { http_method: 'GET', url: `${s.hooks.url('/enc-get')}?from=<source>&text=<message>&kw=<keyword>`, enc });
    await a.config({ keyword: 'GETENC', trigger: { callback_profile_id: p.id } });
    const id = randomId();
    await a.send('getenc 50% & more', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));

    const [req] = await s.hooks.waitFor('/enc-get');
    expect(req!.method).toBe('GET');
    expect(req!.query.get('kw')).toBe('GETENC');
    expect(receiver.decryptField(enc.algorithm, enc.key, enc.iv, req!.query.get('text'))).toBe('getenc 50% & more');
    expect(receiver.decryptField(enc.algorithm, enc.key, enc.iv, req!.query.get('from'))).toBe('+919812345678');
    expect(receiver.verifyWebhook(p.signing_secret, req!.headers, req!.url)).toBe(true);
    expect(() => receiver.verifyWebhook(p.signing_secret, req!.headers, req!.url.replace('kw=GETENC', 'kw=OTHER'))).toThrow();
  });

  it('retries 5xx and timeouts with backoff, recording status, latency, error and the first bytes of each answer', async () => {
    // A timeout of 2 s: the answers that are meant to arrive in time still do on a loaded machine.
    const ctx = s.h.context({ WEBHOOK_TIMEOUT_SECONDS: '2' });
    const a = await ctx.account();
    const path = `/flaky-${randomId()}`;
    s.hooks.script(path, [{ status: 503, body: 'busy '.repeat(200) }, { status: 200, body: 'too late', delayMs: 4000 }, { status: 201, body: 'fine' }]);
    const p = await profile(a, { url: s.hooks.url(path) });
    await a.config({ keyword: 'FLAKY', trigger: { callback_profile_id: p.id } });
    const id = randomId();
    await a.send('flaky', { id });
    const state = await ctx.withWorker(() => ctx.result(`mo-${id}`));
    expect(state.actions.trigger).toBe('succeeded');

    const reqs = s.hooks.to(path);
    expect(reqs).toHaveLength(3);
    expect(new Set(reqs.map((r) => r.headers['webhook-id']))).toEqual(new Set([`mo-${id}-trigger`]));
    // each attempt is signed afresh (a receiver refuses old timestamps)
    for (const r of reqs) expect(receiver.verifyWebhook(p.signing_secret, r.headers, r.body)).toBe(true);

    const d = await a.call('GET', `/deliveries/mo-${id}-trigger`);
    expect(d.body).toMatchObject({ id: `mo-${id}-trigger`, profile_id: p.id, status: 'succeeded', attempts: 3, replays: 0, last_status_code: 201, last_error: null });
    const [first, second, third] = d.body.attempt_history;
    expect(first).toMatchObject({ attempt: 1, round: 0, status_code: 503, error: 'HTTP 503' });
    expect(first.response_head).toHaveLength(512);
    expect(second).toMatchObject({ attempt: 2, status_code: null, error: 'timed out', response_head: null });
    expect(second.latency_ms).toBeGreaterThanOrEqual(1950);
    expect(third).toMatchObject({ attempt: 3, status_code: 201, error: null, response_head: 'fine' });
    const log = await a.call('GET', `/logs/${id}`);
    expect(log.body.actions).toEqual([expect.objectContaining({ type: 'trigger', status: 'succeeded', attempts: 3, delivery_id: `mo-${id}-trigger`, callback_profile_id: p.id })]);
  });

  it('waits as long as a 429 asks with Retry-After before the next attempt', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const path = `/busy-${randomId()}`;
    s.hooks.script(path, [{ status: 429, body: 'slow down', headers: { 'retry-after': '3' } }, { status: 200 }]);
    const p = await profile(a, { url: s.hooks.url(path) });
    await a.config({ keyword: 'BUSY', trigger: { callback_profile_id: p.id } });
    const id = randomId();
    await a.send('busy', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    const [first, second] = s.hooks.to(path);
    // the policy alone would retry after WEBHOOK_INITIAL_INTERVAL_SECONDS (1 s here)
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2900);
    expect((await a.call('GET', `/deliveries/mo-${id}-trigger`)).body).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it("signs inline trigger URLs with the account's secret", async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    await a.config({ keyword: 'INLINE', trigger: { url: s.hooks.url('/inline-signed') } });
    const id = randomId();
    await a.send('inline', { id });
    await ctx.withWorker(() => ctx.result(`mo-${id}`));
    const [req] = await s.hooks.waitFor('/inline-signed');
    const { signing_secret } = (await a.call('GET', '/callback/signing-secret')).body;
    expect(receiver.verifyWebhook(signing_secret, req!.headers, req!.body)).toBe(true);
    const other = await ctx.account();
    const otherSecret = (await other.call('GET', '/callback/signing-secret')).body.signing_secret;
    expect(() => receiver.verifyWebhook(otherSecret, req!.headers, req!.body)).toThrow();
  });
});

describe('private networks refused at connect time (WEBHOOK_ALLOW_PRIVATE_NETWORKS=false)', () => {
  /**
   * URLs saved while private networks were allowed (an API configured otherwise, or the setting
   * changed since), delivered by a worker that refuses them: the connect-time check must hold.
   */
  function contexts() {
    const saving = s.h.context();
    const refusing = s.h.context({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', TEMPORAL_TASK_QUEUE: saving.config.temporal.taskQueue });
    return { saving, refusing };
  }

  async function attempts(deliveryId: string) {
    return s.h.sql<{ attempt: number; status_code: number | null; error: string; response_head: string | null }[]>`
      SELECT attempt, status_code, error, response_head FROM delivery_attempts WHERE delivery_id = ${deliveryId} ORDER BY attempt`;
  }

  it('refuses an IP literal for good after one attempt, and never sends the request', async () => {
    const { saving, refusing } = contexts();
    const a = await saving.account();
    const path = `/literal-${randomId()}`;
    await a.config({ keyword: 'LITERAL', trigger: { url: s.hooks.url(path) } });
    const id = randomId();
    await a.send('literal', { id });
    const state = await refusing.withWorker(() => saving.result(`mo-${id}`));
    expect(state.actions.trigger).toBe('failed');
    expect(s.hooks.to(path)).toHaveLength(0);
    expect(await attempts(`mo-${id}-trigger`)).toEqual([{ attempt: 1, status_code: null, error: 'refused: 127.0.0.1 is a loopback address', response_head: null }]);
    const d = await a.call('GET', `/deliveries/mo-${id}-trigger`);
    expect(d.body).toMatchObject({ status: 'failed', attempts: 1, last_error: 'refused: 127.0.0.1 is a loopback address' });
  });

  it('refuses a name that resolves to a loopback address, checked after DNS', async () => {
    const { saving, refusing } = contexts();
    const a = await saving.account();
    const path = `/by-name-${randomId()}`;
    const p = await profile(a, { url: `http://localhost:${s.hooks.port}${path}` });
    await a.config({ keyword: 'BYNAME', trigger: { callback_profile_id: p.id } });
    const id = randomId();
    await a.send('byname please', { id });
    const state = await refusing.withWorker(() => saving.result(`mo-${id}`));
    expect(state.actions.trigger).toBe('failed');
    expect(s.hooks.to(path)).toHaveLength(0);
    const [only, ...more] = await attempts(`mo-${id}-trigger`);
    expect(more).toEqual([]);
    expect(only!.error).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
  });

  it('refuses the advanced-auth token URL the same way, before the endpoint is called', async () => {
    const { saving, refusing } = contexts();
    const a = await saving.account();
    const tokenPath = `/token-${randomId()}`;
    const hookPath = `/after-token-${randomId()}`;
    const p = await profile(a, {
      url: s.hooks.url(hookPath),
      auth: { type: 'advanced', url: `http://localhost:${s.hooks.port}${tokenPath}`, client_id: 'c', client_secret: 's' },
    });
    await a.config({ keyword: 'TOKENREF', trigger: { callback_profile_id: p.id } });
    const id = randomId();
    await a.send('tokenref please', { id });
    const state = await refusing.withWorker(() => saving.result(`mo-${id}`));
    expect(state.actions.trigger).toBe('failed');
    expect(s.hooks.to(tokenPath)).toHaveLength(0);
    expect(s.hooks.to(hookPath)).toHaveLength(0);
    const [only, ...more] = await attempts(`mo-${id}-trigger`);
    expect(more).toEqual([]);
    expect(only!.error).toMatch(/^token request refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
  });
});
