import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { expect, it } from 'vitest';
import { generateKey } from '../../src/domain/keyring.js';
import { temporalSuite } from '../helpers/suite.js';
import { capability, configToml, fixtures } from './fixtures.js';

/**
 * The contract fuzz (issue 10): Schemathesis reads the live service's own /openapi.json and
 * sends what it documents, with each operation's credential, against the real stack
 * (PostgreSQL, Temporal). It fails on a 5xx, on an answer that does not match its documented
 * status, content type or schema, and on a documented-valid request that is refused (400);
 * and every write operation must have had a 2xx answer, so each was really exercised.
 *
 * No worker runs: runs are started in Temporal but nothing executes them, so the service never
 * calls out (and webhooks and token URLs are pointed at 127.0.0.1 besides).
 */
const s = temporalSuite();

const HOOKS = fileURLToPath(new URL('./schemathesis_hooks.py', import.meta.url));
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance', 'positive_data_acceptance'];
const SCHEMATHESIS = process.env.SCHEMATHESIS_PATH ?? 'schemathesis';
const MAX_EXAMPLES = Number(process.env.FUZZ_MAX_EXAMPLES ?? 20);
const SEED = Number(process.env.FUZZ_SEED ?? 20260501);

function run(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // In its own directory: Schemathesis keeps a .schemathesis cache where it runs.
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/**
 * Statuses per operation, from the NDJSON event stream of the run: requests with the
 * operation's own method only (not the probes of other methods, answered 405 or, for the
 * codec's CORS preflight, 204).
 */
async function statusesByOperation(path: string): Promise<Map<string, number[]>> {
  const byOp = new Map<string, number[]>();
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line);
    const recorder = event.ScenarioFinished?.recorder;
    if (!recorder) continue;
    for (const interaction of Object.values<any>(recorder.interactions ?? {})) {
      const label = recorder.label as string;
      const status = interaction?.response?.status_code;
      if (typeof status !== 'number' || interaction.request?.method !== label.split(' ')[0]) continue;
      byOp.set(label, [...(byOp.get(label) ?? []), status]);
    }
  }
  return byOp;
}

it('the live service meets its own OpenAPI document under Schemathesis', { timeout: 600_000 }, async () => {
  // The throttle of failed credentials off: the fuzz sends bad ones on purpose, and a 429 after
  // the first 300 would keep it from every handler behind (throttling has tests of its own).
  const ctx = s.h.context({ PAYLOAD_KEY: generateKey(), WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', THROTTLE_FAILED_AUTH_PER_MINUTE: '0' });
  const receiver = `http://127.0.0.1:${s.hooks.port}`;
  const f = await fixtures(ctx, receiver);
  const server = serve({ fetch: ctx.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  f.base = base;
  const dir = await mkdtemp(join(tmpdir(), 'fuzz-'));
  try {
    await writeFile(join(dir, 'schemathesis.toml'), configToml(f, capability()));
    const events = join(dir, 'events.ndjson');
    const { code, out } = await run(SCHEMATHESIS, [
      '--config-file', join(dir, 'schemathesis.toml'), '--no-color',
      'run', `${base}/openapi.json`,
      '--checks', CHECKS.join(','),
      '--phases', 'examples,coverage,fuzzing',
      '--max-examples', String(MAX_EXAMPLES),
      '--seed', String(SEED),
      '--workers', '1',
      '--generation-allow-x00', 'false',
      '--generation-database', 'none',
      '--request-timeout', '30',
      '--report', 'ndjson', '--report-ndjson-path', events,
    ], { FUZZ_FIXTURES: JSON.stringify(f), SCHEMATHESIS_HOOKS: HOOKS, PYTHONUNBUFFERED: '1' }, dir);
    // The run's own summary, case counts included, in the test's output.
    console.log(out);
    const byOp = await statusesByOperation(events);
    const rows = [...byOp].sort(([a], [b]) => a.localeCompare(b)).map(([label, statuses]) => {
      const counts: Record<string, number> = {};
      for (const st of statuses) counts[st] = (counts[st] ?? 0) + 1;
      return `${label.padEnd(62)} ${String(statuses.length).padStart(4)} cases  ${Object.entries(counts).map(([k, v]) => `${k}×${v}`).join(' ')}`;
    });
    console.log(`cases per operation (status×count):\n${rows.join('\n')}\ntotal ${[...byOp.values()].reduce((n, x) => n + x.length, 0)} cases`);

    expect(code, 'schemathesis found failures (see its output above)').toBe(0);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const writes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).filter((m) => ['post', 'put', 'patch', 'delete'].includes(m)).map((m) => `${m.toUpperCase()} ${path}`));
    expect(writes.length).toBeGreaterThan(20);
    const without2xx = writes.filter((op) => !(byOp.get(op) ?? []).some((st) => st >= 200 && st < 300));
    expect(without2xx, 'write operations that never got a 2xx answer').toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await new Promise<void>((r) => server.close(() => r()));
  }
});
