import type { ConnectionLike } from '@temporalio/client';
import { pendingMigrations } from '../db/migrate.js';
import type { Sql } from '../db/sql.js';
import type { Log } from './logger.js';

/** One thing `/ready` checks: answered, or why not (never a connection string or an address). */
export type Check = { ok: true } | { ok: false; error: string };
export type Readiness = { ready: boolean; checks: Record<string, Check> };
/**
 * Runs the checks. `drain()` waits for calls a timed-out check left running: the Temporal
 * client retries an unreachable server in the background until the call's deadline, and a
 * retry on a connection closed meanwhile throws where nothing can catch it. A process drains
 * before it closes its Temporal connection.
 */
export type ReadinessCheck = { (): Promise<Readiness>; drain: () => Promise<void> };

/** How long each check may take: a probe answers within seconds even when a part hangs. */
export const CHECK_TIMEOUT_MS = 2000;

/** What the checks are called in a 503's message. */
const NAMES: Record<string, string> = { postgresql: 'PostgreSQL', temporal: 'Temporal', migrations: 'migrations', worker: 'worker' };

/**
 * `/ready` (SPEC §9): PostgreSQL answers a query, Temporal answers for our namespace, every
 * migration this code knows is applied, plus the caller's own checks (the worker's state).
 * Each check is bounded by CHECK_TIMEOUT_MS: postgres.js waits for a connection as long as it
 * takes, and a lazy Temporal connection retries its connect. A check that goes down or comes
 * back is logged once, not on every probe.
 */
export function createReadiness(deps: {
  sql: Sql;
  temporal: ConnectionLike;
  namespace: string;
  log?: Log;
  extra?: Record<string, () => Check>;
  timeoutMs?: number;
}): ReadinessCheck {
  const timeoutMs = deps.timeoutMs ?? CHECK_TIMEOUT_MS;
  const last = new Map<string, boolean>();
  // Temporal calls still running: each ends by its gRPC deadline. (A PostgreSQL query may not
  // end until the server is back; closing the pool ends it.)
  const running = new Set<Promise<void>>();
  const bounded = <T>(p: Promise<T>, opts: { track?: boolean } = {}): Promise<T> => {
    if (opts.track) {
      const done = p.then(
        () => {},
        () => {},
      );
      running.add(done);
      void done.then(() => running.delete(done));
    }
    return withTimeout(p, timeoutMs);
  };

  const postgresql = async (): Promise<Check> => {
    await bounded(deps.sql`SELECT 1`.execute());
    return { ok: true };
  };
  const migrations = async (): Promise<Check> => {
    const pending = await bounded(pendingMigrations(deps.sql));
    return pending.length === 0 ? { ok: true } : { ok: false, error: `not applied: ${pending.join(', ')}` };
  };
  const temporal = async (): Promise<Check> => {
    // describeNamespace, not only a health check: a server without our namespace runs nothing.
    const call = deps.temporal.withDeadline(Date.now() + timeoutMs, () => deps.temporal.workflowService.describeNamespace({ namespace: deps.namespace }));
    await bounded(call, { track: true });
    return { ok: true };
  };

  const check = async (): Promise<Readiness> => {
    const [pg, tp] = await Promise.all([settle(postgresql()), settle(temporal())]);
    const checks: Record<string, Check> = {
      postgresql: pg,
      temporal: tp,
      // Readable only once PostgreSQL answers.
      migrations: pg.ok ? await settle(migrations()) : { ok: false, error: 'not checked: PostgreSQL is down' },
    };
    for (const [name, check] of Object.entries(deps.extra ?? {})) checks[name] = await settle(Promise.resolve().then(check));
    for (const [name, check] of Object.entries(checks)) {
      const was = last.get(name);
      if (was === check.ok) continue;
      last.set(name, check.ok);
      if (!check.ok) deps.log?.(`not ready: ${NAMES[name] ?? name}: ${check.error}`, { level: 'warn', check: name });
      else if (was === false) deps.log?.(`ready again: ${NAMES[name] ?? name} answers`, { check: name });
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };
  return Object.assign(check, {
    drain: async () => {
      await Promise.all([...running]);
    },
  });
}

/** The HTTP answer to a readiness: 200, or 503 naming what is down in the API's error shape. */
export function readinessAnswer(r: Readiness): { status: 200 | 503; body: Record<string, unknown> } {
  if (r.ready) return { status: 200, body: r };
  const down = Object.entries(r.checks)
    .filter(([, c]) => !c.ok)
    .map(([name, c]) => `${NAMES[name] ?? name} (${(c as { error: string }).error})`);
  return { status: 503, body: { ...r, error: { code: 'not_ready', message: `not ready: ${down.join('; ')}` } } };
}

async function settle(p: Promise<Check>): Promise<Check> {
  try {
    return await p;
  } catch (e) {
    return { ok: false, error: describe(e) };
  }
}

class Timeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`no answer within ${ms} ms`)), ms);
  });
  // A query or call that answers after the deadline is dropped, its error too.
  p.catch(() => {});
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * An error as `/ready` shows it, to anyone: its message without URLs (which may hold a
 * password) or host:port addresses, cut short.
 */
export function describe(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  let message = e instanceof Error ? e.message : String(e);
  message = message
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>')
    .replace(/\[[0-9a-f:]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|(?<![\w-])[a-z][\w-]*(\.[\w-]+)*:\d{2,5}\b/gi, '<address>')
    .replace(/\s+/g, ' ')
    .trim();
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code) && !message.includes(code)) message = `${code}: ${message}`;
  return message.length > 200 ? `${message.slice(0, 197)}...` : message || 'failed';
}
