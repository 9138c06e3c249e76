import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_ANSWERS, SECRET_FIELDS } from '../../src/api/no-store.js';
import { migrationFiles } from '../../src/db/migrate.js';
import { TEST_DATABASE_URL } from '../helpers/db.js';
import { ADMIN_TOKEN, Harness, randomId, randomLongCode, randomShortCode, type Account, type Ctx, type Res } from '../helpers/harness.js';

// SPEC §5.2: a sender ID belongs to one account; a numeric sender is a number the account holds.
let h: Harness;
let ctx: Ctx;
beforeAll(async () => {
  h = await Harness.create();
  ctx = h.context();
});
afterAll(async () => {
  await h?.close();
});

/** A sender ID no other test uses: 3 letters and 8 hex digits. */
const brand = (prefix = 'ACM') => `${prefix}${randomId('').slice(1, 9).toUpperCase()}`;
const CUSTOMER = '+919812345678';

function expectRefused(res: Res, status: number, code: string, field: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error).toMatchObject({ code, field });
}

const register = (a: Account, senderId: string) => a.call('POST', '/sender-ids', { sender_id: senderId });
const send = (a: Account, sender: string) => a.call('POST', '/messages', { to: CUSTOMER, sender, body: 'hello' });
const listed = async (a: Account) => (await a.call('GET', '/sender-ids')).body.data.map((s: { sender_id: string }) => s.sender_id);

describe('an alphanumeric sender ID', () => {
  it("is one account's: another account's registration is 409 sender_taken, in any case", async () => {
    const [a, b] = [await ctx.account(), await ctx.account()];
    const acmebank = brand();
    expect((await register(a, acmebank)).status).toBe(201);
    expectRefused(await register(b, acmebank), 409, 'sender_taken', 'sender_id');
    expectRefused(await register(b, acmebank.toLowerCase()), 409, 'sender_taken', 'sender_id');
    // The holder itself: registered already, in whatever spelling it tries again.
    expectRefused(await register(a, acmebank), 409, 'conflict', 'sender_id');
    expectRefused(await register(a, acmebank.toLowerCase()), 409, 'conflict', 'sender_id');
    expect(await listed(a)).toEqual([acmebank]);
    expect(await listed(b)).toEqual([]);
    // So B cannot send as it, nor configure a reply from it.
    expectRefused(await send(b, acmebank), 400, 'invalid_field', 'sender');
    expectRefused(await b.call('POST', '/receive-configs', { number: b.number, keyword: 'HI', auto_reply: { sender: acmebank, message: 'hi' } }), 400, 'invalid_field', 'auto_reply.sender');
    expect((await send(a, acmebank)).status).toBe(201);
  });

  it('goes to exactly one of two accounts registering it at once', async () => {
    const accounts = await Promise.all(Array.from({ length: 4 }, () => ctx.account()));
    const contested = brand('RAC');
    const answers = await Promise.all(accounts.map((a) => register(a, contested)));
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    for (const r of answers.filter((x) => x.status === 409)) expect(r.body.error).toMatchObject({ code: 'sender_taken', field: 'sender_id' });
    const holders = await h.sql`SELECT sid FROM sender_ids WHERE upper(sender_id) = ${contested}`;
    expect(holders).toEqual([{ sid: accounts[answers.findIndex((r) => r.status === 201)]!.sid }]);
  });
});

describe('a numeric sender', () => {
  it("must be one of the account's numbers to be registered", async () => {
    const a = await ctx.account({ kind: 'short_code' });
    const b = await ctx.account();
    // Another account's short code, and a number nobody holds: 403 sender_not_held.
    expectRefused(await register(b, a.number), 403, 'sender_not_held', 'sender_id');
    expectRefused(await register(b, randomShortCode()), 403, 'sender_not_held', 'sender_id');
    // Its own: the short code's digits, a long code's digits without the +.
    expect((await register(a, a.number)).status).toBe(201);
    expect((await register(b, b.number.slice(1))).status).toBe(201);
    expect(await listed(b)).toEqual([b.number.slice(1)]);
  });

  it('that the account does not hold is refused by the send API and by configurations, even registered before', async () => {
    const a = await ctx.account({ kind: 'short_code' });
    const b = await ctx.account();
    // A registration made before ownership was checked (migration 019 keeps numeric ones).
    await h.sql`INSERT INTO sender_ids (sid, sender_id) VALUES (${b.sid}, ${a.number})`;
    expectRefused(await send(b, a.number), 403, 'sender_not_held', 'sender');
    expectRefused(await send(b, randomLongCode()), 403, 'sender_not_held', 'sender');
    const reply = { number: b.number, keyword: 'HI', auto_reply: { sender: a.number, message: 'hi' } };
    expectRefused(await b.call('POST', '/receive-configs', reply), 403, 'sender_not_held', 'auto_reply.sender');
    expectRefused(await b.call('POST', '/receive-configs/dry-run', { config: reply, since: '2026-01-01T00:00:00Z' }), 403, 'sender_not_held', 'config.auto_reply.sender');
    expectRefused(await b.call('POST', '/receive-configs', { number: b.number, keyword: 'FWD', forward: { sms: { to: CUSTOMER, sender: `+${a.number}` } } }), 403, 'sender_not_held', 'forward.sms.sender');
    expect(await h.sql`SELECT 1 FROM outbox WHERE sid = ${b.sid}`).toHaveLength(0);
    // Its own numbers it may send from, in any writing, registered or not.
    expect((await send(a, a.number)).status).toBe(201);
    expect((await send(b, b.number)).status).toBe(201);
    expect((await send(b, b.number.slice(1))).status).toBe(201);
  });
});

describe('operators', () => {
  it('list every sender ID with the account holding it', async () => {
    const a = await ctx.account({ kind: 'short_code' });
    const b = await ctx.account();
    const [one, two] = [brand('LSA'), brand('LSB')];
    for (const [acct, s] of [[a, one], [b, two], [a, a.number]] as const) expect((await register(acct, s)).status).toBe(201);
    await h.sql`INSERT INTO sender_ids (sid, sender_id) VALUES (${b.sid}, ${a.number})`; // from before 019

    const all = await ctx.admin('GET', '/sender-ids?limit=500');
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ limit: 500, offset: 0 });
    const mine = all.body.data.filter((s: { sid: string }) => s.sid === a.sid || s.sid === b.sid);
    // By sender ID (digits first), then sid.
    expect(mine).toEqual([
      ...[
        { sender_id: a.number, sid: a.sid, kind: 'numeric', held: true, created_at: expect.any(String) },
        { sender_id: a.number, sid: b.sid, kind: 'numeric', held: false, created_at: expect.any(String) },
      ].sort((x, y) => (x.sid < y.sid ? -1 : 1)),
      { sender_id: one, sid: a.sid, kind: 'alphanumeric', held: null, created_at: expect.any(String) },
      { sender_id: two, sid: b.sid, kind: 'alphanumeric', held: null, created_at: expect.any(String) },
    ]);
    const ofA = await ctx.admin('GET', `/sender-ids?sid=${a.sid}&limit=1&offset=1`);
    expect(ofA.body).toMatchObject({ data: [{ sender_id: one, sid: a.sid }], limit: 1, offset: 1 });
    const byName = await ctx.admin('GET', `/sender-ids?sender_id=${one.toLowerCase()}`);
    expect(byName.body.data).toEqual([expect.objectContaining({ sender_id: one, sid: a.sid })]);
    expect((await ctx.request('GET', '/v1/admin/sender-ids')).status).toBe(401);
  });

  it('reassign one to another account: the old holder can no longer send with it', async () => {
    const a = await ctx.account();
    const b = await ctx.account();
    const acmebank = brand();
    expect((await register(b, acmebank)).status).toBe(201); // B took it first
    expect((await send(b, acmebank)).status).toBe(201);

    const moved = await ctx.admin('PATCH', `/sender-ids/${acmebank.toLowerCase()}`, { sid: a.sid });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ sender_id: acmebank, sid: a.sid, previous_sid: b.sid, kind: 'alphanumeric' });
    expect(await listed(a)).toEqual([acmebank]);
    expect(await listed(b)).toEqual([]);

    expectRefused(await send(b, acmebank), 400, 'invalid_field', 'sender');
    expectRefused(await b.call('POST', '/receive-configs', { number: b.number, keyword: 'HI', auto_reply: { sender: acmebank, message: 'hi' } }), 400, 'invalid_field', 'auto_reply.sender');
    expectRefused(await register(b, acmebank), 409, 'sender_taken', 'sender_id');
    expect((await send(a, acmebank)).status).toBe(201);
    // Again to its holder: harmless.
    expect((await ctx.admin('PATCH', `/sender-ids/${acmebank}`, { sid: a.sid })).body).toMatchObject({ sid: a.sid, previous_sid: a.sid });
  });

  it('get 404 for an unknown sender ID or account, and 400 for a numeric sender', async () => {
    const a = await ctx.account({ kind: 'short_code' });
    const acmebank = brand();
    expect((await register(a, acmebank)).status).toBe(201);
    expect((await register(a, a.number)).status).toBe(201);
    const unknownSender = await ctx.admin('PATCH', `/sender-ids/${brand('NON')}`, { sid: a.sid });
    expect(unknownSender.status).toBe(404);
    expect(unknownSender.body.error.code).toBe('not_found');
    const unknownSid = await ctx.admin('PATCH', `/sender-ids/${acmebank}`, { sid: 'HXUS000000000000' });
    expect(unknownSid.status).toBe(404);
    expect(unknownSid.body.error.code).toBe('not_found');
    expectRefused(await ctx.admin('PATCH', `/sender-ids/${a.number}`, { sid: a.sid }), 400, 'invalid_field', 'sender_id');
    expectRefused(await ctx.admin('PATCH', `/sender-ids/${acmebank}`, {}), 400, 'invalid_field', 'sid');
    expect(await listed(a)).toEqual([a.number, acmebank].sort());
  });
});

describe('migration 019', () => {
  it('keeps the oldest of duplicate registrations and records the others', async () => {
    const schema = `t_${randomId('').slice(1)}`;
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE SCHEMA ${schema}`);
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: schema } });
    try {
      const dir = fileURLToPath(new URL('../../src/db/migrations/', import.meta.url));
      const files = await migrationFiles();
      const at = files.indexOf('019_sender_ownership.sql');
      for (const f of files.slice(0, at)) await sql.unsafe(await readFile(dir + f, 'utf8'));
      for (const sid of ['S1', 'S2', 'S3']) await sql`INSERT INTO accounts (sid, name, country, api_key_hash) VALUES (${sid}, ${sid}, 'US', 'x')`;
      await sql`INSERT INTO sender_ids (sid, sender_id, created_at) VALUES
        ('S2', 'ACMEBANK', '2025-01-01'), ('S1', 'AcmeBank', '2025-02-01'), ('S3', 'acmebank', '2025-03-01'),
        ('S1', 'OTHER', '2025-01-01'), ('S1', 'Other', '2025-01-05'),
        ('S1', '56161', '2025-01-01'), ('S2', '56161', '2025-01-02')`;
      await sql.unsafe(await readFile(dir + files[at]!, 'utf8'));
      expect(await sql`SELECT sid, sender_id FROM sender_ids ORDER BY sender_id, sid`).toEqual([
        { sid: 'S1', sender_id: '56161' }, { sid: 'S2', sender_id: '56161' },
        { sid: 'S2', sender_id: 'ACMEBANK' }, { sid: 'S1', sender_id: 'OTHER' },
      ]);
      expect(await sql`SELECT sid, sender_id, kept_sid, kept_as FROM sender_ids_dropped ORDER BY sender_id, sid`).toEqual([
        { sid: 'S1', sender_id: 'AcmeBank', kept_sid: 'S2', kept_as: 'ACMEBANK' },
        { sid: 'S1', sender_id: 'Other', kept_sid: 'S1', kept_as: 'OTHER' },
        { sid: 'S3', sender_id: 'acmebank', kept_sid: 'S2', kept_as: 'ACMEBANK' },
      ]);
      await expect(sql`INSERT INTO sender_ids (sid, sender_id) VALUES ('S3', 'AcmeBANK')`).rejects.toMatchObject({ code: '23505' });
      await sql`INSERT INTO sender_ids (sid, sender_id) VALUES ('S3', '56161')`; // numeric: no owner rule here
    } finally {
      await sql.end();
      await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  });
});

describe('answers that carry a secret', () => {
  const raw = (method: string, path: string, body: unknown, headers: Record<string, string>) =>
    ctx.app.request(path, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('say Cache-Control: no-store', async () => {
    const a = await ctx.account();
    const key = { 'api-key': a.apiKey };
    const account = await raw('POST', '/v1/admin/accounts', { name: `Test ${randomId()}`, country: 'US' }, asAdmin);
    const gateway = await raw('POST', '/v1/admin/gateways', { name: randomId('gw') }, asAdmin);
    const profile = await raw('POST', `/v1/${a.sid}/callback/profiles`, { title: randomId('p'), http_method: 'POST', url: 'https://example.com/hook' }, key);
    expect(profile.status).toBe(201);
    const profileId = ((await profile.clone().json()) as { id: string }).id;
    const answers: [string, Response, number][] = [
      ['account create', account, 201],
      ['gateway create', gateway, 201],
      ['callback profile create', profile, 201],
      ['profile secret', await raw('GET', `/v1/${a.sid}/callback/profiles/${profileId}/signing-secret`, undefined, key), 200],
      ['profile secret rotation', await raw('POST', `/v1/${a.sid}/callback/profiles/${profileId}/signing-secret/rotate`, undefined, key), 200],
      ['account secret', await raw('GET', `/v1/${a.sid}/callback/signing-secret`, undefined, key), 200],
      ['account secret rotation', await raw('POST', `/v1/${a.sid}/callback/signing-secret/rotate`, undefined, key), 200],
      ['api key rotation', await raw('POST', `/v1/admin/accounts/${a.sid}/api-key`, undefined, asAdmin), 201],
    ];
    for (const [what, res, status] of answers) {
      expect(res.status, what).toBe(status);
      expect(res.headers.get('cache-control'), what).toBe('no-store');
      const body = (await res.json()) as Record<string, unknown>;
      expect(SECRET_FIELDS.some((f) => typeof body[f] === 'string'), `${what} carries a secret`).toBe(true);
    }
    // Answers without one keep the default.
    expect((await raw('GET', `/v1/${a.sid}/callback/profiles/${profileId}`, undefined, { 'api-key': a.apiKey })).headers.get('cache-control')).toBeNull();
    expect((await raw('GET', '/v1/admin/gateways', undefined, asAdmin)).headers.get('cache-control')).toBeNull();
  });

  it('are every documented answer with a secret field, and nothing the document lacks', async () => {
    const doc = (await ctx.request('GET', '/openapi.json')).body;
    const propertiesOf = (schema: any): Record<string, unknown> => {
      if (schema?.$ref) return propertiesOf(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]);
      return Object.assign({}, ...(schema?.allOf ?? []).map(propertiesOf), schema?.properties ?? {});
    };
    const withSecrets: string[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const ok = Object.entries<any>(op.responses ?? {}).filter(([status]) => status.startsWith('2'));
        const secret = ok.some(([, r]) => SECRET_FIELDS.some((f) => f in propertiesOf(r.content?.['application/json']?.schema)));
        if (secret) withSecrets.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(withSecrets.sort()).toEqual(SECRET_ANSWERS.map(([m, p]) => `${m} ${p}`).sort());
  });
});
