import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { formatInZone } from '../../src/domain/time.js';
import { createIngestion, type Ingestion } from '../../src/ingest/ingest.js';
import { createSmsProvider } from '../../src/outbound/sms-providers.js';
import { ADMIN_TOKEN, Harness, INGEST_TOKEN, randomId, type Account, type Ctx } from '../helpers/harness.js';

// Ingest matches against an in-process routing cache. These tests show that the cache does
// cache, and that every change to routing reaches it: made through the same API process (at
// once), through another one (PostgreSQL NOTIFY), or by the clock (expiry).

let h: Harness;
beforeAll(async () => {
  h = await Harness.create();
});
afterAll(async () => {
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Another API process: its own connection pool, its own routing cache, its own app. */
async function otherProcess(ctx: Ctx, opts: { listen: boolean }) {
  const sql = postgres(h.db.url, { max: 4, onnotice: () => {}, transform: { undefined: null }, connection: { search_path: h.db.schema } });
  const ingestion: Ingestion = createIngestion({ sql, temporal: ctx.client, config: ctx.config });
  if (opts.listen) await ingestion.routing.listen();
  const app = createApp({ sql, temporal: ctx.client, config: ctx.config, tokens: { admin: ADMIN_TOKEN, ingest: INGEST_TOKEN }, sms: createSmsProvider(ctx.config), ingestion });
  const call = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const res = await app.request(path, { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  };
  return {
    ingest: (body: Record<string, unknown>) => call('POST', '/v1/inbound', body, { authorization: `Bearer ${INGEST_TOKEN}` }),
    asAccount: (a: Account, method: string, path: string, body: unknown) => call(method, `/v1/${a.sid}${path}`, body, { 'api-key': a.apiKey }),
    close: async () => {
      await ingestion.starter.drain();
      await ingestion.routing.close();
      await sql.end({ timeout: 5 });
    },
  };
}

const mo = (a: Account, message: string) => ({ id: randomId('mo'), source: '+15551230000', recipient: a.number, message });

/** The outcome a process gives `message` once it has heard of a change (at most 5 s). */
async function outcomeOnceHeard(proc: { ingest: (b: Record<string, unknown>) => Promise<{ body: any }> }, a: Account, message: string, expected: string) {
  let outcome = '';
  for (let i = 0; i < 50 && outcome !== expected; i++) {
    outcome = (await proc.ingest(mo(a, message))).body.outcome;
    if (outcome !== expected) await sleep(100);
  }
  return outcome;
}

describe('the routing cache', () => {
  it('sees a configuration created, changed and deleted through the same process at once', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const send = async (text: string) => (await ctx.ingest(mo(a, text))).body;

    expect(await send('PROMO now')).toMatchObject({ outcome: 'no_match' }); // the number is now cached
    const cfg = await a.config({ keyword: 'PROMO', trigger: { url: 'http://127.0.0.1:9/x' } });
    expect(await send('PROMO now')).toMatchObject({ outcome: 'keyword', config_id: cfg.id });

    const put = await a.call('PUT', `/receive-configs/${cfg.id}`, { number: a.number, keyword: 'DEAL', trigger: { url: 'http://127.0.0.1:9/x' } });
    expect(put.status).toBe(200);
    expect(await send('PROMO now')).toMatchObject({ outcome: 'no_match' });
    expect(await send('deal now')).toMatchObject({ outcome: 'keyword', config_id: cfg.id });

    const dflt = await a.config({ default: true, trigger: { url: 'http://127.0.0.1:9/x' } });
    expect(await send('anything')).toMatchObject({ outcome: 'default', config_id: dflt.id });

    expect((await a.call('DELETE', `/receive-configs/${cfg.id}`)).status).toBe(204);
    expect(await send('deal now')).toMatchObject({ outcome: 'default', config_id: dflt.id });
  });

  it('takes a keyword as expired once its time has passed, with no change to invalidate it', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    // Expiry has one-second precision, in the account's time zone (UTC here).
    const at = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
    const cfg = await a.config({ keyword: 'FLASH', expires_at: formatInZone(at, 'UTC'), trigger: { url: 'http://127.0.0.1:9/x' } });
    expect((await ctx.ingest(mo(a, 'flash'))).body).toMatchObject({ outcome: 'keyword', config_id: cfg.id });
    await sleep(at.getTime() - Date.now() + 50);
    expect((await ctx.ingest(mo(a, 'flash'))).body).toMatchObject({ outcome: 'expired', config_id: cfg.id });
  });

  it('hears of changes made through another API process', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const listening = await otherProcess(ctx, { listen: true });
    const deaf = await otherProcess(ctx, { listen: false });
    const changer = await otherProcess(ctx, { listen: false });
    try {
      // Both other processes cache the number with no configuration.
      expect((await listening.ingest(mo(a, 'vip please'))).body).toMatchObject({ outcome: 'no_match' });
      expect((await deaf.ingest(mo(a, 'vip please'))).body).toMatchObject({ outcome: 'no_match' });

      const created = await changer.asAccount(a, 'POST', '/receive-configs', { number: a.number, keyword: 'VIP', trigger: { url: 'http://127.0.0.1:9/x' } });
      expect(created.status).toBe(201);

      // The listening process hears the NOTIFY sent on commit; the deaf one shows that the
      // cache really answers from memory until told.
      expect(await outcomeOnceHeard(listening, a, 'vip please', 'keyword')).toBe('keyword');
      expect((await deaf.ingest(mo(a, 'vip please'))).body).toMatchObject({ outcome: 'no_match' });

      // A delete through another process, likewise.
      expect((await changer.asAccount(a, 'DELETE', `/receive-configs/${created.body.id}`, undefined)).status).toBe(204);
      expect(await outcomeOnceHeard(listening, a, 'vip please', 'no_match')).toBe('no_match');
    } finally {
      await Promise.all([listening.close(), deaf.close(), changer.close()]);
    }
  });

  it('forgets everything when its listening connection comes back after a loss', async () => {
    const ctx = h.context();
    const a = await ctx.account();
    const listening = await otherProcess(ctx, { listen: true });
    try {
      expect((await listening.ingest(mo(a, 'back soon'))).body).toMatchObject({ outcome: 'no_match' });
      // A change nobody is told of (triggers off for this one transaction), then the LISTEN
      // connection is cut: only its coming back can tell the cache that it missed something.
      await h.sql.begin(async (tx) => {
        await tx`SET LOCAL session_replication_role = replica`;
        await tx`INSERT INTO receive_configs (id, sid, number, is_default, trigger) VALUES (gen_random_uuid(), ${a.sid}, ${a.number}, true, '{"url":"http://127.0.0.1:9/x"}')`;
      });
      expect((await listening.ingest(mo(a, 'back soon'))).body).toMatchObject({ outcome: 'no_match' });
      const cut = await h.sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'listen %routing_changed%' AND pid <> pg_backend_pid()`;
      expect(cut.length).toBeGreaterThan(0);
      expect(await outcomeOnceHeard(listening, a, 'back soon', 'default')).toBe('default');
    } finally {
      await listening.close();
    }
  });
});
