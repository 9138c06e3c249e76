// The two-tenant scenario (issue 18): does one account's flood to a slow webhook hold another
// account hostage? Account A floods its keyword with BENCH_TENANT_FLOOD MOs (1,500) at the
// bench's concurrency; A's webhook answers 3 s late (a CRM endpoint, not a fault). Account B,
// on its own number, sends single MOs every 250 ms to a fast webhook meanwhile. Measured: B's
// e2e before and during the flood, and the flood's drain rate beside the same engine's drain
// rate for the same flood to a fast webhook (measured first, on A's other keyword).
import type { Receiver } from './receiver.js';
import { burst, countDeliveries, drain, pct, type Mo, type Send } from './load.js';

export type TenantsResult = {
  flood: number;
  concurrency: number;
  slowMs: number;
  /** the flood to a fast webhook: the engine's own drain rate, the reference */
  fastFlood: { drainRate: number | null; ackRate: number; lost: number; duplicated: number; ended: string };
  /** the same flood to the 3 s webhook */
  slowFlood: { drainRate: number | null; ackRate: number; lost: number; duplicated: number; ended: string };
  /** slowFlood.drainRate ÷ fastFlood.drainRate: target ≥ 0.8 */
  drainRatio: number | null;
  /** account B: singles before the flood, and during it */
  fastTenant: {
    before: { sent: number; p50: number | null; p99: number | null };
    during: { sent: number; received: number; p50: number | null; p99: number | null; max: number | null; over60s: number };
  };
};

/** `send` carries A's flood; `sendB`, B's singles, over connections of their own (B is another carrier's client). */
type Setup = { base: string; adminToken: string; receiver: Receiver; send: Send; sendB: Send; concurrency: number; say: (line: string) => void };

const A_NUMBER = '+15555550200';
const B_NUMBER = '+15555550300';

async function setUp(base: string, adminToken: string, receiver: Receiver, slowMs: number): Promise<void> {
  const call = async (path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`tenants setup ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, string>;
  };
  const admin = { authorization: `Bearer ${adminToken}` };
  for (const [name, number, configs] of [
    ['Tenant A (slow CRM)', A_NUMBER, [{ keyword: 'QUICK', url: receiver.url }, { keyword: 'SLOW', url: receiver.slowUrl(slowMs) }]],
    ['Tenant B', B_NUMBER, [{ keyword: 'FAST', url: receiver.url }]],
  ] as const) {
    const account = await call('/v1/admin/accounts', { name, country: 'US' }, admin);
    await call('/v1/admin/numbers', { number, kind: 'long_code' }, admin);
    await call(`/v1/admin/numbers/${encodeURIComponent(number)}/accounts`, { sid: account.sid }, admin);
    for (const c of configs) {
      await call(`/v1/${account.sid}/receive-configs`, { number, keyword: c.keyword, trigger: { url: c.url } }, { 'api-key': account.api_key! });
    }
  }
}

const floodMos = (prefix: string, keyword: string, count: number): Mo[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, source: '+1555' + String(3_000_000 + (i % 500)), recipient: A_NUMBER, message: `${keyword} flood ${i}` }));
const single = (prefix: string, i: number): Mo => ({ id: `${prefix}-${i}`, source: '+1555' + String(4_000_000 + i), recipient: B_NUMBER, message: `FAST single ${i}` });

/** A flood, then its drain; the rate is what got through over the time from the first send to the last webhook. */
async function flood(s: Setup, mos: Mo[], capMs: number) {
  const b = await burst(s.send, mos, s.concurrency);
  const d = await drain(s.receiver, mos.map((m) => m.id), { quietMs: 60_000, capMs, progress: (n) => s.say(`tenants: ${n} of ${mos.length} flood webhooks in`) });
  const c = countDeliveries(s.receiver, b.sent);
  return {
    drainRate: c.lastArrival === null ? null : c.delivered / ((c.lastArrival - b.firstStart) / 1000),
    ackRate: mos.length / b.seconds,
    lost: c.lost,
    duplicated: c.duplicated,
    ended: d.ended,
  };
}

export async function runTenants(s: Setup & { floodCount: number; slowMs: number }): Promise<TenantsResult> {
  await setUp(s.base, s.adminToken, s.receiver, s.slowMs);
  s.say(`tenants: accounts A (${A_NUMBER}, QUICK and SLOW, ${s.slowMs} ms webhook) and B (${B_NUMBER}, FAST)`);

  // B alone: its e2e with nothing else going on.
  const before: number[] = [];
  for (let i = 0; i < 20; i++) {
    const mo = single('tb', i);
    const sent = performance.now();
    await s.sendB(mo);
    const at = await s.receiver.waitFor(mo.id, 10_000);
    if (at !== null) before.push(at - sent);
    await new Promise((r) => setTimeout(r, 100));
  }

  s.say(`tenants: A floods QUICK (fast webhook) with ${s.floodCount} MOs: the reference drain rate`);
  const fastFlood = await flood(s, floodMos('tq', 'QUICK', s.floodCount), 300_000);

  s.say(`tenants: A floods SLOW (${s.slowMs} ms webhook) with ${s.floodCount} MOs; B sends a single MO every 250 ms`);
  const singles = new Map<string, number>();
  let flooding = true;
  const ticker = (async () => {
    for (let i = 0; flooding && i < 2400; i++) {
      const mo = single('td', i);
      singles.set(mo.id, performance.now());
      void s.sendB(mo);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const slowFlood = await flood(s, floodMos('ts', 'SLOW', s.floodCount), 600_000);
  flooding = false;
  await ticker;
  // The last singles get their minute too.
  await drain(s.receiver, [...singles.keys()], { quietMs: 60_000, capMs: 60_000 });
  const during = countDeliveries(s.receiver, singles);
  const over60s = during.lost + during.e2eMs.filter((ms) => ms > 60_000).length;
  return {
    flood: s.floodCount,
    concurrency: s.concurrency,
    slowMs: s.slowMs,
    fastFlood,
    slowFlood,
    drainRatio: slowFlood.drainRate !== null && fastFlood.drainRate ? slowFlood.drainRate / fastFlood.drainRate : null,
    fastTenant: {
      before: { sent: 20, p50: pct(before, 50), p99: pct(before, 99) },
      during: { sent: singles.size, received: during.delivered, p50: pct(during.e2eMs, 50), p99: pct(during.e2eMs, 99), max: during.e2eMs.length ? Math.max(...during.e2eMs) : null, over60s },
    },
  };
}

const ms = (v: number | null) => (v === null ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`);
const rate = (v: number | null) => (v === null ? '–' : `${v.toFixed(1)} MO/s`);

export function formatTenants(t: TenantsResult): string {
  const ok = (b: boolean) => (b ? 'PASS' : 'FAIL');
  const d = t.fastTenant.during;
  return [
    `two tenants: A floods ${t.flood} MOs at ${t.concurrency} in flight; B sends singles meanwhile`,
    `  B alone                 e2e p50 ${ms(t.fastTenant.before.p50)}, p99 ${ms(t.fastTenant.before.p99)}`,
    `  B during A's slow flood e2e p50 ${ms(d.p50)}, p99 ${ms(d.p99)}, max ${ms(d.max)}; ${d.received} of ${d.sent} in, ${d.over60s} over 60 s or never`,
    `  A's flood, fast webhook drain ${rate(t.fastFlood.drainRate)} (ack ${rate(t.fastFlood.ackRate)}), lost ${t.fastFlood.lost}, duplicated ${t.fastFlood.duplicated}`,
    `  A's flood, ${t.slowMs} ms webhook drain ${rate(t.slowFlood.drainRate)} (ack ${rate(t.slowFlood.ackRate)}), lost ${t.slowFlood.lost}, duplicated ${t.slowFlood.duplicated}`,
    `  targets: B's p99 during the flood ≤ 2 s, none over 60 s: ${ok(d.p99 !== null && d.p99 <= 2000 && d.over60s === 0)}; ` +
      `slow drain ≥ 0.8× fast: ${t.drainRatio === null ? '–' : t.drainRatio.toFixed(2)}× ${ok(t.drainRatio !== null && t.drainRatio >= 0.8)}; ` +
      `0 lost, 0 duplicated: ${ok(t.fastFlood.lost + t.slowFlood.lost + t.fastFlood.duplicated + t.slowFlood.duplicated === 0 && d.received === d.sent)}`,
  ].join('\n');
}
