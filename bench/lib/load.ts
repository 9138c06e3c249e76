// The load generator: a burst of MOs at fixed concurrency, then single MOs one at a time
// ("idle"), and waiting for their webhooks. MOs go in through a `Send`: POST /v1/inbound over
// one undici Pool per target, keep-alive, so the generator itself stays cheap next to what it
// measures; or deliver_sm from the bench's SMSC (smsc.ts).
import { Agent, request as httpRequest } from 'node:http';
import { Pool } from 'undici';
import type { Receiver } from './receiver.js';

export type Mo = { id: string; source: string; recipient: string; message: string };

/** 500 distinct customers, +15551000000 … +15551000499; the business number is elsewhere. */
export const customerOf = (i: number) => '+1555' + String(1_000_000 + (i % 500));

export function makeMos(prefix: string, from: number, count: number, recipient: string, keyword: string): Mo[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { id: `${prefix}-${i}`, source: customerOf(i), recipient, message: `${keyword} bench ${i}` };
  });
}

/** Nearest-rank percentile; null for no values. */
export function pct(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function mean(values: number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

export function openPool(base: string, connections: number): Pool {
  return new Pool(base, { connections, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
}

/** What one MO's acknowledgement said: an HTTP status or an SMPP command_status, and the match outcome when the answer carries it. */
export type Sent = { status: string; outcome: string | null };

/** Sends one MO and resolves once it is acknowledged (or failed); how is the front's business. */
export type Send = (mo: Mo) => Promise<Sent>;

/** The key the receiver files an MO's webhook under (receiver.ts): its id, unless the service makes the id (SMPP). */
export type KeyOf = (mo: Mo) => string;
export const byId: KeyOf = (mo) => mo.id;

/** POST /v1/inbound through `pool`; the acknowledgement is the response fully read. */
export function httpSend(pool: Pool, token: string): Send {
  return async (mo) => {
    try {
      const res = await pool.request({
        path: '/v1/inbound',
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(mo),
      });
      const text = await res.body.text();
      let outcome: string | null = null;
      try {
        // The service answers with the match outcome; telling "keyword" from "no_match" here
        // explains a run of lost webhooks at once.
        const o = (JSON.parse(text) as { outcome?: unknown }).outcome;
        if (typeof o === 'string') outcome = o;
      } catch {
        /* the relay and the ceiling answer without one */
      }
      return { status: String(res.statusCode), outcome };
    } catch (e) {
      return { status: `error:${(e as Error).name}`, outcome: null };
    }
  };
}

/**
 * POST /v1/inbound through Node's own http.Agent (keep-alive, `sockets` at most): the plain
 * client a carrier's Node service would use, and what the bench uses by default
 * (BENCH_CLIENT=undici: an undici Pool, cheaper for the bench itself).
 */
export function agentSend(base: string, token: string, sockets: number): { send: Send; close: () => Promise<void> } {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const send: Send = (mo) =>
    new Promise((resolve) => {
      const body = JSON.stringify(mo);
      const req = httpRequest(
        {
          host: url.hostname, port: url.port, path: '/v1/inbound', method: 'POST', agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let outcome: string | null = null;
            try {
              const o = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { outcome?: unknown }).outcome;
              if (typeof o === 'string') outcome = o;
            } catch {
              /* the relay and the ceiling answer without one */
            }
            resolve({ status: String(res.statusCode), outcome });
          });
          res.on('error', (e) => resolve({ status: `error:${e.name}`, outcome: null }));
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ status: `error:${(e as NodeJS.ErrnoException).code ?? e.name}`, outcome: null }));
      req.end(body);
    });
  return { send, close: async () => agent.destroy() };
}

/** One MO through `send`, stamped in `sent` under its key; the latency is from the send's start to its acknowledgement. */
async function timed(send: Send, mo: Mo, key: string, sent: Map<string, number>): Promise<Sent & { ms: number }> {
  const start = performance.now();
  sent.set(key, start);
  const r = await send(mo);
  return { ...r, ms: performance.now() - start };
}

const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

export type BurstResult = {
  /** send time of each MO, by its receiver key (performance.now()) */
  sent: Map<string, number>;
  ackMs: number[];
  statuses: Record<string, number>;
  outcomes: Record<string, number>;
  firstStart: number;
  seconds: number;
};

/**
 * All `mos` through `concurrency` workers, each sending its next MO once the last is
 * acknowledged: as many in flight as `concurrency` (HTTP requests, or an SMPP window).
 */
export async function burst(send: Send, mos: Mo[], concurrency: number, key: KeyOf = byId): Promise<BurstResult> {
  const r: BurstResult = { sent: new Map(), ackMs: [], statuses: {}, outcomes: {}, firstStart: performance.now(), seconds: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, mos.length) }, async () => {
      while (next < mos.length) {
        const mo = mos[next++]!;
        const p = await timed(send, mo, key(mo), r.sent);
        r.ackMs.push(p.ms);
        bump(r.statuses, p.status);
        if (p.outcome) bump(r.outcomes, p.outcome);
      }
    }),
  );
  r.seconds = (performance.now() - r.firstStart) / 1000;
  return r;
}

export type DrainResult = { ended: 'all' | 'quiet' | 'cap'; seconds: number };

/**
 * Waits until every id (receiver key) has arrived at the receiver, or nothing new has arrived
 * for `quietMs`, or `capMs` has passed. `onArrivals` runs on each 50 ms tick that saw a new
 * delivery, so a reading taken there is at most one tick after the last arrival.
 */
export async function drain(
  receiver: Receiver,
  ids: string[],
  opts: { quietMs: number; capMs: number; onArrivals?: () => void; progress?: (delivered: number) => void },
): Promise<DrainResult> {
  const t0 = performance.now();
  let seenTotal = -1;
  let lastChange = t0;
  let lastProgress = t0;
  const missing = new Set(ids.filter((id) => !receiver.arrivals.has(id)));
  for (;;) {
    const now = performance.now();
    if (receiver.total !== seenTotal) {
      seenTotal = receiver.total;
      lastChange = now;
      opts.onArrivals?.();
      for (const id of missing) if (receiver.arrivals.has(id)) missing.delete(id);
    }
    const seconds = (now - t0) / 1000;
    if (missing.size === 0) return { ended: 'all', seconds };
    if (now - lastChange >= opts.quietMs) return { ended: 'quiet', seconds };
    if (now - t0 >= opts.capMs) return { ended: 'cap', seconds };
    if (opts.progress && now - lastProgress >= 10_000) {
      lastProgress = now;
      opts.progress(ids.length - missing.size);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type IdleResult = { sent: Map<string, number>; e2eMs: number[]; timedOut: number; statuses: Record<string, number> };

/**
 * Single MOs, one at a time: each waits for its webhook (at most `waitMs`), then `gapMs`
 * before the next. The whole phase stops after `capMs`, so a broken system cannot hold it.
 */
export async function idle(
  send: Send,
  mos: Mo[],
  receiver: Receiver,
  opts: { gapMs: number; waitMs: number; capMs: number },
  key: KeyOf = byId,
): Promise<IdleResult> {
  const r: IdleResult = { sent: new Map(), e2eMs: [], timedOut: 0, statuses: {} };
  const t0 = performance.now();
  for (const mo of mos) {
    if (performance.now() - t0 > opts.capMs) break;
    const k = key(mo);
    const p = await timed(send, mo, k, r.sent);
    bump(r.statuses, p.status);
    const arrived = await receiver.waitFor(k, opts.waitMs);
    if (arrived === null) r.timedOut++;
    else r.e2eMs.push(arrived - r.sent.get(k)!);
    await new Promise((res) => setTimeout(res, opts.gapMs));
  }
  return r;
}

/** `lastArrival` is the latest first arrival: when the last MO was processed (a duplicate is not). */
export type DeliveryCount = { expected: number; delivered: number; lost: number; duplicated: number; e2eMs: number[]; lastArrival: number | null };

/** For MOs sent at `sent` times (by receiver key): how many reached the receiver, never did, or did more than once. */
export function countDeliveries(receiver: Receiver, sent: Map<string, number>): DeliveryCount {
  const c: DeliveryCount = { expected: sent.size, delivered: 0, lost: 0, duplicated: 0, e2eMs: [], lastArrival: null };
  for (const [id, at] of sent) {
    const arrivals = receiver.arrivals.get(id);
    if (!arrivals) {
      c.lost++;
      continue;
    }
    c.delivered++;
    if (arrivals.length > 1) c.duplicated++;
    const first = arrivals[0]!;
    c.e2eMs.push(first - at);
    if (c.lastArrival === null || first > c.lastArrival) c.lastArrival = first;
  }
  return c;
}
