import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Sql } from '../db/sql.js';

/**
 * The process's Prometheus metrics (SPEC §9), in one registry. One per process, like the
 * Temporal Runtime whose metrics `metricsText` appends: under `npm start` the API and the
 * worker share a process, so one scrape of `/metrics` covers both. Names are `sms_`-prefixed;
 * docs/operations.md describes each family and what healthy looks like.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** From storing an MO to its run's start: milliseconds when all is well, an outage's length when not. */
const START_DELAY = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export const metrics = {
  httpRequests: new Counter({
    name: 'sms_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  }),
  httpDuration: new Histogram({
    name: 'sms_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: SECONDS,
    registers,
  }),
  moReceived: new Counter({
    name: 'sms_mo_received_total',
    help: "MO messages stored, by outcome (keyword, expired, default, no_match, standard, unknown_number) and gateway (its id, or 'default')",
    labelNames: ['outcome', 'gateway'] as const,
    registers,
  }),
  moDuplicates: new Counter({
    name: 'sms_mo_duplicates_total',
    help: "Carrier retries of an MO already stored (same carrier id from the same gateway), answered as the first and run no more, by gateway",
    labelNames: ['gateway'] as const,
    registers,
  }),
  runStartQueued: new Gauge({
    name: 'sms_run_start_queued',
    help: "Stored MOs this process holds in memory until their run's start is confirmed",
    registers,
  }),
  runStartPending: new Gauge({
    name: 'sms_run_start_pending',
    help: 'Stored MOs whose run has not been confirmed started, service-wide (read from PostgreSQL at scrape time)',
    registers,
  }),
  runStartOldestPending: new Gauge({
    name: 'sms_run_start_oldest_pending_seconds',
    help: 'Age of the oldest stored MO whose run has not been confirmed started, 0 when none (read at scrape time)',
    registers,
  }),
  runStarts: new Counter({
    name: 'sms_run_starts_total',
    help: "Run starts tried, by result (started, refused, unreachable) and path (ingest: right after the 202; dispatcher: a stored message picked up later)",
    labelNames: ['result', 'path'] as const,
    registers,
  }),
  runStartDelay: new Histogram({
    name: 'sms_run_start_delay_seconds',
    help: "From an MO's arrival to its run's confirmed start, by path",
    labelNames: ['path'] as const,
    buckets: START_DELAY,
    registers,
  }),
  webhookAttempts: new Counter({
    name: 'sms_webhook_attempts_total',
    help: 'Webhook requests made (one per attempt), by outcome: success, http_3xx, http_4xx, http_429, http_5xx, timeout, network_error, refused (private address), token_error (the auth token request failed)',
    labelNames: ['outcome'] as const,
    registers,
  }),
  webhookDuration: new Histogram({
    name: 'sms_webhook_attempt_duration_seconds',
    help: 'Time a webhook request took, to its answer or failure, by outcome',
    labelNames: ['outcome'] as const,
    buckets: SECONDS,
    registers,
  }),
  outboxSends: new Counter({
    name: 'sms_outbox_sends_total',
    help: 'SMS and email sends through the outbox, by channel, provider and status (sent, already_sent, opted_out, failed, in_progress)',
    labelNames: ['channel', 'provider', 'status'] as const,
    registers,
  }),
  outboxSendDuration: new Histogram({
    name: 'sms_outbox_send_duration_seconds',
    help: 'Time a send that reached its provider took (sent or failed), by channel and provider',
    labelNames: ['channel', 'provider'] as const,
    buckets: SECONDS,
    registers,
  }),
  throttled: new Counter({
    name: 'sms_throttled_requests_total',
    help: 'Requests refused with 429 because their client address failed too many credentials, by scope (api: a guarded route; sign_in: the console sign-in)',
    labelNames: ['scope'] as const,
    registers,
  }),
  dailyLimitRefusals: new Counter({
    name: 'sms_daily_limit_refusals_total',
    help: "Sends through POST /v1/{sid}/messages refused with 429 daily_limit: the account's daily_limit for the UTC day was reached",
    registers,
  }),
};

/** The gateway label of an MO: its gateway's id, or `default` (INGEST_TOKEN, an SMPP bind with none). */
export const gatewayLabel = (id: string | null | undefined): string => id ?? 'default';

/** Seconds since `start` (a `performance.now()` reading). */
export const secondsSince = (start: number): number => (performance.now() - start) / 1000;

/** Reads the stored start backlog (one indexed statement) into its gauges. */
export async function observeStartBacklog(sql: Sql): Promise<void> {
  const [row] = await sql<{ n: number; oldest: number | null }[]>`
    SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS oldest
    FROM inbound_messages WHERE dispatch_state = 'pending'`;
  metrics.runStartPending.set(row?.n ?? 0);
  metrics.runStartOldestPending.set(Math.max(0, row?.oldest ?? 0));
}

/** Where the Temporal SDK's own Prometheus exporter listens in this process, if it does (runtime/temporal-runtime.ts). */
let sdkMetricsUrl: string | null = null;
export function setSdkMetricsUrl(url: string | null): void {
  sdkMetricsUrl = url;
}

/**
 * The text of one scrape: this registry's families, then the Temporal SDK's (worker and core:
 * task latencies, slots, polls; `temporal_`-prefixed) when its exporter runs in this process.
 * Should the SDK's endpoint not answer within 2 s, ours are served alone, with a comment.
 */
export async function metricsText(): Promise<string> {
  const ours = await registry.metrics();
  if (!sdkMetricsUrl) return ours;
  try {
    const res = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const sdk = await res.text();
    return `${ours.endsWith('\n') ? ours : `${ours}\n`}${sdk}`;
  } catch (e) {
    return `${ours}\n# Temporal SDK metrics unavailable: ${(e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ')}\n`;
  }
}

export const metricsContentType = registry.contentType;
