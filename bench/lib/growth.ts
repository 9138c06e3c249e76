// The data-growth scenario (issue 18, "reads that do not grow"): one account with a large
// history, loaded straight into the service's database with SQL (generate_series), then each
// read the API and the console offer timed through the real HTTP API: the first logs page,
// every filter, a deep page by offset and by cursor, one day's window, the deliveries, outbox
// and subscription lists, and a 30-day dry run of an unsaved keyword.
import postgres from 'postgres';
import type { Verdict } from './report.js';

/** The shape of the history: 120 days of MOs from 200k customers over 50 keywords, one rare keyword. */
export type GrowthShape = { messages: number; days: number; customers: number; keywords: number; rare: number };

export const GROWTH_SHAPE: GrowthShape = { messages: 1_000_000, days: 120, customers: 200_000, keywords: 50, rare: 10 };

export type GrowthAccount = { sid: string; apiKey: string; main: string; second: string; profileId: string };

/** A keyword of the history: KW01 … KW50. */
const kw = (n: number) => `KW${String(n).padStart(2, '0')}`;

/**
 * The account through the API, as a business would set it up: two numbers (the second takes a
 * tenth of the MOs, a selective `number` filter), a callback profile, and one keyword
 * configuration per keyword of the history (and RARE) on the main number, so that the dry
 * run matches against a realistic set.
 */
export async function setUpGrowthAccount(base: string, adminToken: string, numbers: { main: string; second: string }, keywords: number): Promise<GrowthAccount> {
  const call = async (path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`growth setup ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, string>;
  };
  const admin = { authorization: `Bearer ${adminToken}` };
  const account = await call('/v1/admin/accounts', { name: 'Bench growth', country: 'US' }, admin);
  const sid = account.sid!;
  const key = { 'api-key': account.api_key! };
  for (const number of [numbers.main, numbers.second]) {
    await call('/v1/admin/numbers', { number, kind: 'long_code' }, admin);
    await call(`/v1/admin/numbers/${encodeURIComponent(number)}/accounts`, { sid }, admin);
  }
  const profile = await call(`/v1/${sid}/callback/profiles`, { title: 'Bench CRM', http_method: 'POST', url: 'http://127.0.0.1:9/hook' }, key);
  for (const keyword of [...Array.from({ length: keywords }, (_, i) => kw(i + 1)), 'RARE']) {
    await call(`/v1/${sid}/receive-configs`, { number: numbers.main, keyword, subscribe: true }, key);
  }
  return { sid, apiKey: account.api_key!, ...numbers, profileId: profile.id! };
}

export type LoadResult = { seconds: number; rows: Record<string, number>; from: string; to: string };

/**
 * The history, in a few INSERT … SELECT generate_series statements. MO i (1-based) arrives at
 * an even pace over `days` days up to now, in seq order, with times cut to the second (so
 * that some share a timestamp, as a carrier's clock makes them). Of every 100 MOs, 70 match
 * one of the keywords, 20 match nothing, 5 the default and 5 are standard keywords; every
 * tenth goes to the second number; `rare` of them, spread over the range, are keyword RARE.
 * One MO in ten called a webhook (a delivery, 2% of them failed, a fifth through the callback
 * profile), one in five was answered (the outbox, 5% of them emails); 30% of the customers
 * have subscribed or opted out (one ledger entry and one event each).
 */
export async function loadGrowth(dbUrl: string, a: GrowthAccount, shape: GrowthShape): Promise<LoadResult> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const t0 = performance.now();
  try {
    const n = shape.messages;
    const [row] = await sql<{ to: Date }[]>`SELECT date_trunc('second', now()) - interval '1 minute' AS to`;
    const to = row!.to;
    const from = new Date(to.getTime() - shape.days * 86_400_000);
    const rareEvery = Math.floor(n / shape.rare);
    await sql`
      INSERT INTO inbound_messages (id, seq, sid, source, recipient, message, received_at, keyword, outcome, matched_words,
                                    workflow_id, dispatch_state, dispatched_at, run_status, created_at)
      SELECT 'g' || i, i, ${a.sid}, customer, CASE WHEN i % 10 = 9 THEN ${a.second} ELSE ${a.main} END,
             coalesce(kw, CASE WHEN k < 90 THEN 'hello there ' ELSE 'what about ' END) || ' ' || i,
             at, kw, outcome, CASE WHEN kw IS NULL THEN 0 ELSE 1 END,
             CASE WHEN outcome = 'no_match' THEN NULL ELSE 'mo-g' || i END,
             CASE WHEN outcome = 'no_match' THEN 'none' ELSE 'started' END,
             CASE WHEN outcome = 'no_match' THEN NULL ELSE at END,
             CASE WHEN outcome = 'no_match' THEN NULL ELSE 'completed' END,
             at
      FROM (
        SELECT i, i % 100 AS k,
               '+1555' || lpad(((i::bigint * 7919) % ${shape.customers})::text, 7, '0') AS customer,
               date_trunc('second', ${from}::timestamptz + (${shape.days} * interval '1 day') * (i::float8 / ${n})) AS at,
               CASE WHEN i % ${rareEvery} = ${Math.floor(rareEvery / 2)} THEN 'RARE'
                    WHEN i % 100 < 70 THEN 'KW' || lpad((i % ${shape.keywords} + 1)::text, 2, '0')
                    WHEN i % 100 >= 95 THEN (ARRAY['STOP', 'START', 'HELP'])[i % 3 + 1] END AS kw,
               CASE WHEN i % ${rareEvery} = ${Math.floor(rareEvery / 2)} OR i % 100 < 70 THEN 'keyword'
                    WHEN i % 100 < 90 THEN 'no_match' WHEN i % 100 < 95 THEN 'default' ELSE 'standard' END AS outcome
        FROM generate_series(1, ${n}) i
      ) g`;
    await sql`SELECT setval('inbound_messages_seq_seq', ${n})`;
    // One MO in ten called a webhook: its delivery and the run's trigger action.
    await sql`
      INSERT INTO deliveries (id, sid, log_id, profile_id, url, method, status, attempts, last_status_code, created_at, updated_at, last_attempt_at)
      SELECT 'mo-g' || i || '-trigger', ${a.sid}, 'g' || i, CASE WHEN (i / 10) % 5 = 0 THEN ${a.profileId}::uuid END,
             'http://127.0.0.1:9/hook', 'POST', st, CASE WHEN st = 'failed' THEN 8 ELSE 1 END,
             CASE st WHEN 'failed' THEN 503 WHEN 'succeeded' THEN 200 END, m.received_at, m.received_at, m.received_at
      FROM (SELECT i, CASE (i / 10) % 50 WHEN 0 THEN 'failed' WHEN 1 THEN 'skipped' ELSE 'succeeded' END AS st
            FROM generate_series(3, ${n}, 10) i) g
      JOIN inbound_messages m ON m.id = 'g' || g.i`;
    await sql`
      INSERT INTO message_actions (log_id, type, status, attempts, updated_at)
      SELECT log_id, 'trigger', status, attempts, updated_at FROM deliveries WHERE sid = ${a.sid}`;
    // One MO in five was answered; one answer in twenty is an email forward.
    await sql`
      INSERT INTO outbox (id, seq, sid, log_id, channel, purpose, sender, recipient, subject, body, provider, status, attempts, created_at, updated_at)
      SELECT 'mo-g' || i || CASE WHEN email THEN '-forward_email' ELSE '-auto_reply' END, i / 5 + 1, ${a.sid}, 'g' || i,
             CASE WHEN email THEN 'email' ELSE 'sms' END, CASE WHEN email THEN 'forward_email' ELSE 'auto_reply' END,
             CASE WHEN email THEN 'no-reply@localhost' ELSE 'BENCHCO' END,
             CASE WHEN email THEN 'ops@example.com' ELSE m.source END, CASE WHEN email THEN 'SMS from ' || m.source END,
             'Thanks ' || m.source, CASE WHEN email THEN 'smtp' ELSE 'log' END,
             CASE (i / 5) % 50 WHEN 0 THEN 'failed' WHEN 1 THEN 'undelivered' ELSE CASE WHEN email THEN 'sent' ELSE 'delivered' END END,
             1, m.received_at, m.received_at
      FROM (SELECT i, (i / 5) % 20 = 7 AS email FROM generate_series(1, ${n}, 5) i) g
      JOIN inbound_messages m ON m.id = 'g' || g.i`;
    await sql`SELECT setval('outbox_seq_seq', (SELECT max(seq) FROM outbox))`;
    // 30% of the customers changed their consent once: a subscription row, an event, a ledger entry.
    const subscribed = Math.floor(shape.customers * 0.3);
    await sql`
      INSERT INTO subscriptions (sid, msisdn, sender_id, status, via_number, updated_at, changed_at, changed_seq)
      SELECT ${a.sid}, '+1555' || lpad(c::text, 7, '0'), '*', CASE WHEN c % 10 = 0 THEN 'unsubscribed' ELSE 'subscribed' END, ${a.main},
             ${from}::timestamptz + (${shape.days} * interval '1 day') * (c::float8 / ${subscribed}),
             ${from}::timestamptz + (${shape.days} * interval '1 day') * (c::float8 / ${subscribed}), c
      FROM generate_series(1, ${subscribed}) c`;
    await sql`
      INSERT INTO subscription_events (sid, msisdn, sender_id, status, via_number, created_at, message_at)
      SELECT sid, msisdn, sender_id, status, via_number, updated_at, updated_at FROM subscriptions WHERE sid = ${a.sid} ORDER BY changed_seq`;
    await sql`
      INSERT INTO consent_ledger (sid, msisdn, direction, senders, cause, channel, via_number, status, created_at, applied_at)
      SELECT sid, msisdn, CASE status WHEN 'unsubscribed' THEN 'opt_out' ELSE 'opt_in' END, '{*}', 'api', 'api', via_number, 'applied', updated_at, updated_at
      FROM subscriptions WHERE sid = ${a.sid} ORDER BY changed_seq`;
    // As autovacuum would leave them some time after: statistics and the visibility map.
    const tables = ['inbound_messages', 'deliveries', 'message_actions', 'outbox', 'subscriptions', 'subscription_events', 'consent_ledger'];
    for (const t of tables) await sql.unsafe(`VACUUM (ANALYZE) ${t}`);
    const rows: Record<string, number> = {};
    for (const t of tables) rows[t] = (await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${sql(t)}`)[0]!.n;
    return { seconds: (performance.now() - t0) / 1000, rows, from: from.toISOString(), to: to.toISOString() };
  } finally {
    await sql.end();
  }
}

export type ReadTiming = {
  name: string;
  /** what the brief holds it to, in ms */
  targetMs: number | null;
  status: number;
  rows: number | null;
  medianMs: number;
  maxMs: number;
  /** what the answer said beyond its rows (a dry run's coverage) */
  note: string | null;
  ok: boolean;
};

export type GrowthResult = {
  shape: GrowthShape;
  load: LoadResult;
  repetitions: number;
  reads: ReadTiming[];
  dryRun: { since: string; coveredFrom: string | null; truncated: boolean | null; scanned: number | null; reason: string | null } | null;
};

/** Targets of issue 18: the first page, every filter, and the 30-day dry run. */
export const TARGETS = { firstPageMs: 50, filterMs: 100, dryRunMs: 10_000 };

type Read = { name: string; targetMs: number | null; method?: 'GET' | 'POST'; path: string | (() => Promise<string | null>); body?: unknown; reps?: number };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Each read once unmeasured (the route's first call compiles its code and warms PostgreSQL's
 * cache for it), then `reps` times, one after another, through keep-alive fetch.
 */
export async function timeReads(base: string, a: GrowthAccount, load: LoadResult, reps: number, say: (line: string) => void): Promise<Pick<GrowthResult, 'reads' | 'dryRun'>> {
  const headers = { 'api-key': a.apiKey, 'content-type': 'application/json' };
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/v1/${a.sid}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
  const day = (n: number) => new Date(Date.parse(load.to) - n * 86_400_000).toISOString();
  const q = (params: Record<string, string>) => `?${new URLSearchParams(params)}`;
  /** the cursor after `offset` rows of a list, from the page just before it (untimed) */
  const cursorAt = (list: string, offset: number, limit: number) => async () => {
    const r = await request('GET', `${list}${q({ offset: String(offset - limit), limit: String(limit) })}`);
    const cursor = r.body?.next_cursor;
    return typeof cursor === 'string' ? `${list}${q({ cursor, limit: String(limit) })}` : null;
  };
  const sinceDryRun = day(30);
  const reads: Read[] = [
    { name: 'logs: first page', targetMs: TARGETS.firstPageMs, path: '/logs' },
    { name: 'logs: outcome=default', targetMs: TARGETS.filterMs, path: `/logs${q({ outcome: 'default' })}` },
    { name: 'logs: outcome=standard', targetMs: TARGETS.filterMs, path: `/logs${q({ outcome: 'standard' })}` },
    { name: 'logs: number (the second, 10%)', targetMs: TARGETS.filterMs, path: `/logs${q({ number: a.second })}` },
    { name: 'logs: keyword=KW07 (2%)', targetMs: TARGETS.filterMs, path: `/logs${q({ keyword: 'kw07' })}` },
    { name: 'logs: keyword=RARE (10 rows)', targetMs: TARGETS.filterMs, path: `/logs${q({ keyword: 'RARE' })}` },
    { name: 'logs: one day, 60 days ago', targetMs: TARGETS.filterMs, path: `/logs${q({ since: day(60), until: day(59) })}` },
    { name: 'logs: since 1 day ago', targetMs: TARGETS.filterMs, path: `/logs${q({ since: day(1) })}` },
    { name: 'logs: 30 days, until 60 days ago', targetMs: TARGETS.filterMs, path: `/logs${q({ since: day(90), until: day(60) })}` },
    { name: 'logs: KW07 + one day, 60 days ago', targetMs: TARGETS.filterMs, path: `/logs${q({ keyword: 'KW07', since: day(60), until: day(59) })}` },
    { name: 'logs: offset=500000', targetMs: null, path: `/logs${q({ offset: '500000' })}` },
    { name: 'logs: cursor at 500000', targetMs: TARGETS.filterMs, path: cursorAt('/logs', 500_000, 50) },
    { name: 'logs: console page (100 rows)', targetMs: TARGETS.firstPageMs, path: `/logs${q({ limit: '100' })}` },
    { name: 'deliveries: first page', targetMs: TARGETS.firstPageMs, path: '/deliveries' },
    { name: 'deliveries: status=failed', targetMs: TARGETS.filterMs, path: `/deliveries${q({ status: 'failed' })}` },
    { name: 'deliveries: profile_id', targetMs: TARGETS.filterMs, path: `/deliveries${q({ profile_id: a.profileId })}` },
    { name: 'deliveries: log_id (console log page)', targetMs: TARGETS.filterMs, path: `/deliveries${q({ log_id: 'g500003', limit: '100' })}` },
    { name: 'deliveries: since 1 day ago', targetMs: TARGETS.filterMs, path: `/deliveries${q({ since: day(1) })}` },
    { name: 'deliveries: cursor at 50000', targetMs: TARGETS.filterMs, path: cursorAt('/deliveries', 50_000, 100) },
    { name: 'outbox: first page', targetMs: TARGETS.firstPageMs, path: '/messages' },
    { name: 'outbox: status=failed', targetMs: TARGETS.filterMs, path: `/messages${q({ status: 'failed' })}` },
    { name: 'outbox: channel=email', targetMs: TARGETS.filterMs, path: `/messages${q({ channel: 'email' })}` },
    { name: 'outbox: log_id', targetMs: TARGETS.filterMs, path: `/messages${q({ log_id: 'g500001' })}` },
    { name: 'subscriptions: first page (1000)', targetMs: TARGETS.firstPageMs, path: '/subscriptions' },
    { name: 'subscriptions: status=unsubscribed', targetMs: TARGETS.filterMs, path: `/subscriptions${q({ status: 'unsubscribed' })}` },
    { name: 'subscriptions: number', targetMs: TARGETS.filterMs, path: `/subscriptions${q({ number: '+15550012345' })}` },
    { name: 'subscriptions: console page (500)', targetMs: TARGETS.firstPageMs, path: `/subscriptions${q({ limit: '500' })}` },
    { name: 'subscription history: first page', targetMs: TARGETS.firstPageMs, path: '/subscriptions/history' },
    { name: 'subscription history: status=unsubscribed', targetMs: TARGETS.filterMs, path: `/subscriptions/history${q({ status: 'unsubscribed' })}` },
    { name: 'subscription history: number', targetMs: TARGETS.filterMs, path: `/subscriptions/history${q({ number: '+15550012345' })}` },
    { name: 'consent ledger: first page', targetMs: TARGETS.firstPageMs, path: '/subscriptions/ledger' },
    { name: 'consent ledger: cursor at 30000', targetMs: TARGETS.filterMs, path: cursorAt('/subscriptions/ledger', 30_000, 1000) },
    { name: "consent ledger: a customer's history", targetMs: TARGETS.filterMs, path: `/subscriptions/${encodeURIComponent('+15550012345')}/history` },
    {
      name: 'dry run: 30 days of the main number', targetMs: TARGETS.dryRunMs, method: 'POST', path: '/receive-configs/dry-run', reps: Math.min(reps, 3),
      body: { since: sinceDryRun, config: { number: a.main, keyword: 'HELLO', subscribe: true } },
    },
  ];
  const out: ReadTiming[] = [];
  let dryRun: GrowthResult['dryRun'] = null;
  for (const read of reads) {
    const path = typeof read.path === 'string' ? read.path : await read.path();
    if (path === null) {
      out.push({ name: read.name, targetMs: read.targetMs, status: 0, rows: null, medianMs: NaN, maxMs: NaN, note: 'no next_cursor: the list has no cursor', ok: false });
      continue;
    }
    const method = read.method ?? 'GET';
    const first = await request(method, path, read.body);
    const times: number[] = [];
    let last = first;
    for (let i = 0; i < (read.reps ?? reps); i++) {
      const t = performance.now();
      last = await request(method, path, read.body);
      times.push(performance.now() - t);
    }
    const rows = Array.isArray(last.body?.data) ? last.body.data.length : null;
    let note: string | null = last.status === 200 ? null : `${last.status} ${JSON.stringify(last.body?.error ?? last.body).slice(0, 120)}`;
    let ok = last.status === 200;
    if (method === 'POST' && last.status === 200) {
      const b = last.body;
      dryRun = {
        since: sinceDryRun, coveredFrom: b.covered_from ?? b.oldest_scanned_at ?? null, truncated: b.truncated ?? null,
        scanned: b.scanned ?? null, reason: b.truncated_reason ?? null,
      };
      // Covered: not stopped early, and from the `since` asked for.
      ok = b.truncated === false && (b.covered_from === undefined || Date.parse(b.covered_from) <= Date.parse(sinceDryRun));
      note = `scanned ${b.scanned}, matched ${b.matched}, truncated ${b.truncated}${b.truncated_reason ? ` (${b.truncated_reason})` : ''}, covered from ${dryRun.coveredFrom ?? '?'}`;
    }
    const t: ReadTiming = {
      name: read.name, targetMs: read.targetMs, status: last.status, rows, medianMs: median(times), maxMs: Math.max(...times), note,
      ok: ok && (read.targetMs === null || Math.max(...times) <= read.targetMs),
    };
    say(`growth: ${t.name}: ${t.status}, ${t.rows ?? '–'} rows, median ${t.medianMs.toFixed(1)} ms, max ${t.maxMs.toFixed(1)} ms${note ? ` (${note})` : ''}`);
    out.push(t);
  }
  return { reads: out, dryRun };
}

/** The reads as a table: median and max against the target. */
export function formatGrowth(g: GrowthResult): string {
  const lines = [
    `DATA GROWTH: ${g.shape.messages.toLocaleString('en-US')} MOs in one account over ${g.shape.days} days, ${g.shape.customers.toLocaleString('en-US')} customers, ` +
      `${g.shape.keywords} keywords (+ RARE, ${g.shape.rare} rows); loaded with SQL in ${g.load.seconds.toFixed(1)} s ` +
      `(${Object.entries(g.load.rows).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`).join(', ')}); ${g.repetitions} repetitions each, after one unmeasured`,
  ];
  const w = Math.max(...g.reads.map((r) => r.name.length));
  lines.push(`  ${'read'.padEnd(w)}  status   rows   median ms      max ms   target`);
  for (const r of g.reads) {
    const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
    lines.push(`  ${r.name.padEnd(w)}  ${String(r.status).padStart(6)}  ${String(r.rows ?? '–').padStart(5)}  ${f(r.medianMs).padStart(11)}  ${f(r.maxMs).padStart(10)}   ${r.targetMs === null ? '–' : `≤ ${r.targetMs}`}${r.note ? `   ${r.note}` : ''}`);
  }
  return lines.join('\n');
}

/** PASS / FAIL lines for the report's targets: a read passes when every repetition is within its target (and it answered 200). */
export function growthVerdicts(g: GrowthResult): Verdict[] {
  return g.reads.filter((r) => r.targetMs !== null).map((r) => ({
    check: `growth ${r.name} (max ms)`,
    value: Number.isFinite(r.maxMs) ? r.maxMs.toFixed(1) : '–',
    target: `≤ ${r.targetMs}${r.name.startsWith('dry run') ? ', all 30 days covered' : ''}`,
    verdict: r.status === 0 ? 'n/a' : r.ok ? 'PASS' : 'FAIL',
  }));
}
