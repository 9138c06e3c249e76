// The bench's result: one column per scenario, then the ratios and the targets they are
// checked against (informational: the bench does not fail on them).
import type { OutboxCheck } from './service.js';
import type { HistoryStats } from './history.js';

export type Cpu = { process: number | null; temporal: number | null; postgres: number | null; bench: number | null };

export type ScenarioResult = {
  system: 'relay' | 'ceiling' | 'service';
  scenario: string;
  /** how the MOs came in: POST /v1/inbound, or deliver_sm from the bench's SMSC (the service only) */
  ingest: 'http' | 'smpp';
  keyword: string;
  messages: number;
  /** requests in flight (HTTP), or deliver_sm awaiting their deliver_sm_resp (the SMPP window) */
  concurrency: number;
  /** HTTP statuses, or deliver_sm_resp command_status names */
  statuses: Record<string, number>;
  /** the service's match outcomes from its 202 answers */
  outcomes: Record<string, number>;
  /** MOs acknowledged per second: HTTP answers read, or deliver_sm_resp received */
  ackRate: number;
  ackP50: number | null;
  ackP99: number | null;
  processedRate: number | null;
  e2eP50: number | null;
  e2eP99: number | null;
  drain: { ended: 'all' | 'quiet' | 'cap'; seconds: number; deliveredAtEnd: number };
  idle: { sent: number; received: number; p50: number | null; p99: number | null };
  /** over every MO of the scenario (burst and idle), counted at its end */
  lost: number;
  duplicated: number;
  cpuPer1000: Cpu;
  history: HistoryStats | null;
  outbox: OutboxCheck | null;
  emailsReceived: number | null;
  /** the system's own counters: the reference systems' (the ceiling's eager starts), the SMPP bind's */
  childStats: Record<string, number> | null;
};

const f = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pair = (a: number | null, b: number | null, digits = 1) => `${f(a, digits)} / ${f(b, digits)}`;
const counts = (c: Record<string, number>) => Object.entries(c).map(([k, n]) => `${k}×${n}`).join(' ') || '–';

type Row = [label: string, cell: (r: ScenarioResult) => string];

/** Rows of label → one cell per scenario; a row empty for every scenario is left out. */
function rows(results: ScenarioResult[]): Row[] {
  const all: Row[] = [
    ['MOs in via', (r) => (r.ingest === 'smpp' ? 'SMPP deliver_sm' : 'HTTP POST')],
    ['MOs in the burst / in flight', (r) => `${r.messages} / ${r.concurrency}`],
    ['HTTP statuses / deliver_sm_resp', (r) => counts(r.statuses)],
    ['match outcomes', (r) => counts(r.outcomes)],
    ['ack rate (MO/s)', (r) => f(r.ackRate, 0)],
    ['ack p50 / p99 (ms)', (r) => pair(r.ackP50, r.ackP99)],
    ['processed rate (MO/s)', (r) => f(r.processedRate, 1)],
    ['e2e under burst p50 / p99 (ms)', (r) => pair(r.e2eP50, r.e2eP99, 0)],
    ['wait for webhooks ended', (r) => `${r.drain.ended} after ${f(r.drain.seconds, 0)} s (${r.drain.deliveredAtEnd} in)`],
    ['idle e2e p50 / p99 (ms)', (r) => pair(r.idle.p50, r.idle.p99)],
    ['idle MOs received / sent', (r) => `${r.idle.received} / ${r.idle.sent}`],
    ['lost / duplicated', (r) => `${r.lost} / ${r.duplicated}`],
    ['CPU s per 1,000 MOs: process', (r) => f(r.cpuPer1000.process, 2)],
    ['  its Temporal dev server', (r) => f(r.cpuPer1000.temporal, 2)],
    ['  PostgreSQL (all processes)', (r) => f(r.cpuPer1000.postgres, 2)],
    ['  bench (load + receiver)', (r) => f(r.cpuPer1000.bench, 2)],
    ['history events mean / max', (r) => (r.history ? pair(r.history.eventsMean, r.history.eventsMax) : '–')],
    ['workflow tasks mean / max', (r) => (r.history ? pair(r.history.workflowTasksMean, r.history.workflowTasksMax) : '–')],
    ['runs sampled (open, unreadable)', (r) => (r.history ? `${r.history.sampled} (${r.history.open} open, ${r.history.failed})` : '–')],
    ['relayed / failed', (r) => (r.childStats && 'relayed' in r.childStats ? `${r.childStats.relayed} / ${r.childStats.failed}` : '–')],
    ['eager starts / starts / failed', (r) => (r.childStats && 'eager' in r.childStats ? `${r.childStats.eager} / ${r.childStats.started} / ${r.childStats.failed}` : '–')],
    ['SMPP bind: received / stored / dup. / errors', (r) => (r.ingest === 'smpp' && r.childStats
      ? `${r.childStats.received} / ${r.childStats.stored} / ${r.childStats.duplicates} / ${r.childStats.errors}` : '–')],
    ['outbox auto_reply sent (missing)', (r) => outboxCell(r.outbox, 'auto_reply')],
    ['outbox forward_email sent (missing)', (r) => outboxCell(r.outbox, 'forward_email')],
    ['emails at the SMTP server', (r) => (r.emailsReceived === null ? '–' : String(r.emailsReceived))],
  ];
  return all.filter(([, cell]) => results.some((r) => cell(r) !== '–'));
}

function outboxCell(o: OutboxCheck | null, purpose: string): string {
  if (!o) return '–';
  return `${o.sent[purpose]} (${o.missing[purpose]})${o.ended === 'all' ? '' : ` [${o.ended}]`}`;
}

export function formatTable(results: ScenarioResult[]): string {
  const header = ['', ...results.map((r) => r.scenario)];
  const body = rows(results).map(([label, cell]) => [label, ...results.map(cell)]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export type Verdict = { check: string; value: string; target: string; verdict: 'PASS' | 'FAIL' | 'n/a' };

const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? null : a / b);

/**
 * The ratios between the service and its references, and the targets of the throughput work.
 * SMPP ingest is compared with HTTP ingest of the same keyword; the issue that asked for it set
 * no target for its rates, so only its losses and duplicates are checked.
 */
export function judge(results: ScenarioResult[]): { ratios: Record<string, number | null>; verdicts: Verdict[] } {
  const relay = results.find((r) => r.system === 'relay');
  const ceiling = results.find((r) => r.system === 'ceiling');
  const services = results.filter((r) => r.system === 'service' && r.ingest === 'http');
  const smpp = results.find((r) => r.system === 'service' && r.ingest === 'smpp');
  const win = services.find((r) => r.keyword === 'WIN');
  const ratios: Record<string, number | null> = {};
  const verdicts: Verdict[] = [];
  const check = (name: string, value: number | null, target: string, ok: (v: number) => boolean, digits = 2) =>
    verdicts.push({ check: name, value: f(value, digits), target, verdict: value === null ? 'n/a' : ok(value) ? 'PASS' : 'FAIL' });

  for (const s of services) {
    const k = s.keyword;
    ratios[`${k} ack rate ÷ relay ack rate`] = ratio(s.ackRate, relay?.ackRate);
    ratios[`${k} ack p99 ÷ relay ack p99`] = ratio(s.ackP99, relay?.ackP99);
    check(`service ${k} ack rate ÷ relay`, ratios[`${k} ack rate ÷ relay ack rate`]!, '≥ 0.8', (v) => v >= 0.8);
    check(`service ${k} ack p99 ÷ relay`, ratios[`${k} ack p99 ÷ relay ack p99`]!, '≤ 2', (v) => v <= 2);
  }
  ratios['WIN processed ÷ ceiling processed'] = ratio(win?.processedRate, ceiling?.processedRate);
  if (smpp) {
    const http = services.find((r) => r.keyword === smpp.keyword);
    ratios[`SMPP ${smpp.keyword} ack rate ÷ HTTP ${smpp.keyword} ack rate`] = ratio(smpp.ackRate, http?.ackRate);
    ratios[`SMPP ${smpp.keyword} processed ÷ HTTP ${smpp.keyword} processed`] = ratio(smpp.processedRate, http?.processedRate);
  }
  check('service WIN processed ÷ ceiling', ratios['WIN processed ÷ ceiling processed']!, '≥ 0.8', (v) => v >= 0.8);
  for (const s of services) {
    check(`service ${s.keyword} idle e2e p50 (ms)`, s.idle.p50, '≤ 30', (v) => v <= 30, 1);
    check(`service ${s.keyword} idle e2e p99 (ms)`, s.idle.p99, '≤ 100', (v) => v <= 100, 1);
  }
  check('service WIN workflow tasks per run (mean)', win?.history?.workflowTasksMean ?? null, '≤ 1', (v) => v <= 1);
  check('service WIN history events per run (mean)', win?.history?.eventsMean ?? null, '≤ 8', (v) => v <= 8);
  for (const s of services) {
    check(`service ${s.keyword} webhooks lost`, s.lost, '0', (v) => v === 0, 0);
    check(`service ${s.keyword} webhooks duplicated`, s.duplicated, '0', (v) => v === 0, 0);
    if (s.outbox) {
      for (const [purpose, missing] of Object.entries(s.outbox.missing)) check(`service ${s.keyword} outbox ${purpose} missing`, missing, '0', (v) => v === 0, 0);
    }
  }
  if (smpp) {
    check(`service SMPP ${smpp.keyword} webhooks lost`, smpp.lost, '0', (v) => v === 0, 0);
    check(`service SMPP ${smpp.keyword} webhooks duplicated`, smpp.duplicated, '0', (v) => v === 0, 0);
  }
  return { ratios, verdicts };
}

export function formatJudgement(j: ReturnType<typeof judge>): string {
  const lines = ['RATIOS'];
  const w = Math.max(38, ...Object.keys(j.ratios).map((k) => k.length));
  for (const [k, v] of Object.entries(j.ratios)) lines.push(`  ${k.padEnd(w)} ${f(v, 2)}`);
  lines.push('', 'TARGETS (informational)');
  const cw = Math.max(...j.verdicts.map((v) => v.check.length));
  for (const v of j.verdicts) lines.push(`  ${v.verdict.padEnd(4)}  ${v.check.padEnd(cw)}  ${v.value.padStart(8)}  target ${v.target}`);
  return lines.join('\n');
}
