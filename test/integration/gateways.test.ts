import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GatewayCache } from '../../src/ingest/gateways.js';
import { storeSingle } from '../../src/smpp/mo-store.js';
import { INGEST_TOKEN, randomId, randomLongCode, type Ctx, type Res } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';
import { eventually } from '../helpers/wait.js';

// SPEC §5 gateways: operator-made ingest credentials; carrier ids unique per gateway.
const s = temporalSuite();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Gw = { id: string; name: string; numbers: string[] | null; token: string };

async function gateway(ctx: Ctx, body: Record<string, unknown> = {}): Promise<Gw> {
  const res = await ctx.admin('POST', '/gateways', { name: randomId('gw'), ...body });
  if (res.status !== 201) throw new Error(`gateway: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const post = (ctx: Ctx, token: string, body: Record<string, unknown>): Promise<Res> =>
  ctx.request('POST', '/v1/inbound', body, { authorization: `Bearer ${token}` });

describe('gateways', () => {
  it('two gateways sending the same carrier id: both MOs stored and run; each resend is a duplicate; INGEST_TOKEN ids unchanged', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const path = `/${randomId('gw-hook')}`;
    const cfg = await a.config({ keyword: 'GW', trigger: { url: s.hooks.url(path) } });
    const [g1, g2] = [await gateway(ctx), await gateway(ctx)];
    const carrierId = randomId('carrier');
    const mo = { id: carrierId, source: '+919812345678', recipient: a.number, message: 'gw hello' };

    const first = await post(ctx, g1.token, mo);
    const second = await post(ctx, g2.token, mo);
    const byDefault = await post(ctx, INGEST_TOKEN, mo);
    const ids = [`gw:${g1.id}:${carrierId}`, `gw:${g2.id}:${carrierId}`, carrierId];
    for (const [res, id] of [[first, ids[0]], [second, ids[1]], [byDefault, ids[2]]] as const) {
      expect(res).toEqual({ status: 202, body: { id, outcome: 'keyword', config_id: cfg.id, workflow_id: `mo-${id}` } });
    }

    // Each gateway's retry of its own id finds its own message: the first answer, nothing new.
    expect(await post(ctx, g1.token, mo)).toEqual(first);
    expect(await post(ctx, g2.token, mo)).toEqual(second);
    expect(await post(ctx, INGEST_TOKEN, mo)).toEqual(byDefault);
    const rows = await s.h.sql<{ id: string; gateway_id: string | null }[]>`
      SELECT id, gateway_id FROM inbound_messages WHERE id = ANY(${ids}::text[]) ORDER BY seq`;
    expect(rows).toEqual([{ id: ids[0], gateway_id: g1.id }, { id: ids[1], gateway_id: g2.id }, { id: ids[2], gateway_id: null }]);

    await ctx.withWorker(async () => {
      for (const id of ids) await ctx.result(`mo-${id}`);
    });
    const hooks = await s.hooks.waitFor(path, 3);
    await sleep(300);
    expect(s.hooks.to(path)).toHaveLength(3);
    expect(hooks.map((r) => JSON.parse(r.body).id).sort()).toEqual([...ids].sort());
    expect(hooks.map((r) => r.headers['webhook-id']).sort()).toEqual(ids.map((id) => `mo-${id}-trigger`).sort());
  });

  it('a revoked gateway gets 401 at once, for MOs and delivery reports; its token is never shown again and stored only hashed', async () => {
    const ctx = s.h.context();
    const g = await gateway(ctx);
    expect(g.token).toMatch(/^G[0-9a-f]{48}$/);
    const mo = () => ({ id: randomId(), source: '+919812345678', recipient: randomLongCode(), message: 'hi' });
    expect((await post(ctx, g.token, mo())).status).toBe(202);
    const dlr = { message_id: randomId('none'), status: 'DELIVERED' };
    // An operator's gateway is told no more than that (it must not tell others' SMS from none: delivery-reports.test.ts).
    expect(await ctx.request('POST', '/v1/delivery-reports', dlr, { authorization: `Bearer ${g.token}` })).toEqual({ status: 202, body: { matched: false } });
    const byUrl = (token: string) => ctx.request('GET', `/v1/inbound?${new URLSearchParams({ token, ...mo() })}`);
    expect((await byUrl(g.token)).status).toBe(202);

    // Never returned after the POST; only its SHA-256 is stored.
    const list = await ctx.admin('GET', '/gateways');
    const listed = list.body.gateways.find((x: Gw) => x.id === g.id);
    expect(listed).toMatchObject({ id: g.id, name: g.name, numbers: null, revoked_at: null });
    const one = await ctx.admin('GET', `/gateways/${g.id}`);
    expect(one.status).toBe(200);
    for (const body of [list.body, one.body]) {
      expect(JSON.stringify(body)).not.toContain(g.token);
      expect(JSON.stringify(body)).not.toContain('token');
    }
    const [row] = await s.h.sql`SELECT * FROM gateways WHERE id = ${g.id}`;
    expect(row!.token_hash).toBe(createHash('sha256').update(g.token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(g.token);

    // Another API process, listening as `npm start`'s do, with the gateway in its cache.
    const other = s.h.context();
    await other.ingestion.gateways.listen();
    try {
      expect((await post(other, g.token, mo())).status).toBe(202);

      expect((await ctx.admin('DELETE', `/gateways/${g.id}`)).status).toBe(204);
      // The process that revoked it refuses the token from the very next request...
      const refused = await post(ctx, g.token, mo());
      expect(refused).toEqual({ status: 401, body: { error: { code: 'unauthorized', message: expect.any(String) } } });
      expect((await byUrl(g.token)).status).toBe(401);
      expect((await ctx.request('POST', '/v1/delivery-reports', dlr, { authorization: `Bearer ${g.token}` })).status).toBe(401);
      // ...and another process as soon as PostgreSQL tells it, well before its cache's 5 s.
      const started = Date.now();
      await eventually('the other process to refuse the token', async () => (await post(other, g.token, mo())).status === 401, 2_000);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await other.ingestion.gateways.close();
    }

    const revoked = await ctx.admin('GET', `/gateways/${g.id}`);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    // Revoking again keeps the first time; the gateway stays listed.
    const again = await ctx.admin('POST', `/gateways/${g.id}/revoke`);
    expect(again).toMatchObject({ status: 200, body: { id: g.id, revoked_at: revoked.body.revoked_at } });
    expect((await ctx.admin('DELETE', '/gateways/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await ctx.admin('GET', '/gateways/nope')).status).toBe(404);
  });

  it('a gateway limited to some numbers gets a 403 naming recipient for any other; PATCH applies at once', async () => {
    const ctx = s.h.context();
    const a = await ctx.account();
    const elsewhere = randomLongCode();
    // Written as a carrier might: normalised like stored numbers.
    const g = await gateway(ctx, { numbers: [a.number.replace('+', '00')] });
    expect(g.numbers).toEqual([a.number]);

    expect((await post(ctx, g.token, { id: randomId(), source: '+919812345678', recipient: a.number, message: 'hi' })).status).toBe(202);
    const id = randomId();
    const refused = await post(ctx, g.token, { id, source: '+919812345678', recipient: elsewhere, message: 'hi' });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'number_not_allowed', field: 'recipient' });
    expect(refused.body.error.message).toContain(elsewhere);
    expect(await s.h.sql`SELECT 1 FROM inbound_messages WHERE recipient = ${elsewhere}`).toHaveLength(0);
    // The default gateway is limited to nothing.
    expect((await ctx.ingest({ id: randomId(), source: '+919812345678', recipient: elsewhere, message: 'hi' })).status).toBe(202);

    const patched = await ctx.admin('PATCH', `/gateways/${g.id}`, { numbers: [a.number, elsewhere] });
    expect(patched).toMatchObject({ status: 200, body: { name: g.name, numbers: [a.number, elsewhere].sort() } });
    expect((await post(ctx, g.token, { id, source: '+919812345678', recipient: elsewhere, message: 'hi' })).status).toBe(202);
    const anyNumber = await ctx.admin('PATCH', `/gateways/${g.id}`, { numbers: null });
    expect(anyNumber.body.numbers).toBeNull();
    expect((await post(ctx, g.token, { id: randomId(), source: '+919812345678', recipient: randomLongCode(), message: 'hi' })).status).toBe(202);
  });

  it('validates what an operator sends', async () => {
    const ctx = s.h.context();
    const g = await gateway(ctx);
    const field = async (res: Promise<Res>) => {
      const r = await res;
      expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
      return [r.status, r.body.error.field];
    };
    expect(await field(ctx.admin('POST', '/gateways', { name: g.name }))).toEqual([409, 'name']);
    expect(await field(ctx.admin('POST', '/gateways', { name: randomId('gw'), numbers: ['abc'] }))).toEqual([400, 'numbers.0']);
    expect(await field(ctx.admin('POST', '/gateways', { name: randomId('gw'), numbers: [] }))).toEqual([400, 'numbers']);
    expect(await field(ctx.admin('POST', '/gateways', { name: ' ' }))).toEqual([400, 'name']);
    expect(await field(ctx.admin('POST', '/gateways', { name: randomId('gw'), token: 'mine' }))).toEqual([400, 'token']);
    expect(await field(ctx.admin('PATCH', `/gateways/${g.id}`, { token_hash: 'x' }))).toEqual([400, 'token_hash']);
    expect((await ctx.request('GET', '/v1/admin/gateways', undefined, { authorization: `Bearer ${INGEST_TOKEN}` })).status).toBe(401);
    expect((await ctx.request('POST', '/v1/admin/gateways', { name: 'x' }, { authorization: `Bearer ${g.token}` })).status).toBe(401);

    const doc = (await ctx.request('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/admin/gateways'])).toEqual(['post', 'get']);
    expect(Object.keys(doc.paths['/v1/admin/gateways/{id}'])).toEqual(['get', 'patch', 'delete']);
    expect(doc.paths['/v1/admin/gateways'].post.requestBody.content['application/json'].schema.required).toEqual(['name']);
  });

  it("an SMPP connection belongs to a gateway: its MOs are recorded under it", async () => {
    const ctx = s.h.context();
    const g = await gateway(ctx);
    const smsc = { host: '127.0.0.1', port: 2775, system_id: 'esme', password: 'pw', enabled: false };
    expect(await ctx.admin('POST', '/smpp-connections', { ...smsc, name: randomId('smsc'), gateway_id: randomId() })).toMatchObject({ status: 400, body: { error: { field: 'gateway_id' } } });
    expect(await ctx.admin('POST', '/smpp-connections', { ...smsc, name: randomId('smsc'), gateway_id: '00000000-0000-4000-8000-000000000000' }))
      .toMatchObject({ status: 400, body: { error: { field: 'gateway_id' } } });
    const owned = await ctx.admin('POST', '/smpp-connections', { ...smsc, name: randomId('smsc'), gateway_id: g.id });
    expect(owned).toMatchObject({ status: 201, body: { gateway_id: g.id } });
    const plain = await ctx.admin('POST', '/smpp-connections', { ...smsc, name: randomId('smsc') });
    expect(plain).toMatchObject({ status: 201, body: { gateway_id: null } });

    const deps = { sql: s.h.sql, ingestion: ctx.ingestion };
    const opts = { reassemblyTimeoutMs: 120_000, redeliveryWindowMs: 600_000 };
    const part = { dataCoding: 1, octets: new TextEncoder().encode('hello smpp'), concat: null, notes: [] };
    const stored = [];
    for (const connectionId of [owned.body.id, plain.body.id]) {
      stored.push(await storeSingle(deps, opts, { connectionId, source: '+919812345678', destination: randomLongCode(), userMessageReference: null }, part));
    }
    const rows = await s.h.sql<{ id: string; gateway_id: string | null }[]>`
      SELECT id, gateway_id FROM inbound_messages WHERE id = ANY(${stored.map((x) => x.id)}::text[]) ORDER BY seq`;
    expect(rows).toEqual([{ id: stored[0]!.id, gateway_id: g.id }, { id: stored[1]!.id, gateway_id: null }]);
    // SMPP ids are ours, unique per connection already: not prefixed again.
    expect(stored[0]!.id.startsWith(`smpp:${owned.body.id}:`)).toBe(true);

    const moved = await ctx.admin('PATCH', `/smpp-connections/${plain.body.id}`, { gateway_id: g.id });
    expect(moved).toMatchObject({ status: 200, body: { gateway_id: g.id } });

    // A revoked gateway's connection would never be bound: it cannot be given one.
    const revoked = await gateway(ctx);
    expect((await ctx.admin('DELETE', `/gateways/${revoked.id}`)).status).toBe(204);
    const refused = await ctx.admin('POST', '/smpp-connections', { ...smsc, name: randomId('smsc'), gateway_id: revoked.id });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'gateway_revoked', field: 'gateway_id' } } });
    expect(await ctx.admin('PATCH', `/smpp-connections/${plain.body.id}`, { gateway_id: revoked.id }))
      .toMatchObject({ status: 409, body: { error: { code: 'gateway_revoked', field: 'gateway_id' } } });
    expect((await ctx.admin('GET', `/smpp-connections/${plain.body.id}`)).body.gateway_id).toBe(g.id);
  });

  it('remembers a token that is no gateway\'s for a moment, bounded, and forgets it when a gateway changes', async () => {
    const token = (n: string) => createHash('sha256').update(`not-a-gateway-${n}`).digest('hex');
    const cache = new GatewayCache(s.h.sql, { missTtlMs: 60_000, maxMisses: 2 });
    const [t1, t2, t3] = [token(randomId()), token(randomId()), token(randomId())];
    expect(await cache.byTokenHash(t1)).toBeNull();
    // A gateway with that token appears (made by hand, so no process is told): the miss is
    // remembered, and PostgreSQL is not asked again for it.
    const name = randomId('gw');
    await s.h.sql`INSERT INTO gateways (name, token_hash) VALUES (${name}, ${t1})`;
    expect(await cache.byTokenHash(t1)).toBeNull();
    // Bounded: two more misses push the first out, which is then read again.
    expect(await cache.byTokenHash(t2)).toBeNull();
    expect(await cache.byTokenHash(t3)).toBeNull();
    expect(await cache.byTokenHash(t1)).toMatchObject({ name });
    // A change to gateways (the NOTIFY every process hears, or this process's own) forgets misses.
    await s.h.sql`INSERT INTO gateways (name, token_hash) VALUES (${`${name}-2`}, ${t2})`;
    expect(await cache.byTokenHash(t2)).toBeNull();
    cache.invalidate();
    expect(await cache.byTokenHash(t2)).toMatchObject({ name: `${name}-2` });
  });
});
