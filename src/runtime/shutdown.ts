import type { Log } from './logger.js';

/** A part a process started; `name` says which one a shutdown waited on past its deadline. */
export type Stoppable = { stop: () => Promise<void>; name?: string };

// npm relays a terminal's Ctrl-C to the process the terminal already sent it to: a repeat this
// soon is that same press, not a second one.
const REPEAT_GRACE_MS = 1000;

/**
 * On SIGINT, SIGTERM or SIGHUP (a terminal closed), stops the parts in reverse start order and
 * exits 0; if they have not all stopped within `timeoutMs` (SHUTDOWN_TIMEOUT_SECONDS), it says
 * which part was still stopping and exits 1. A second signal exits at once, with 1. Children
 * (embedded PostgreSQL, the dev server) are signalled on any exit (runtime/database.ts,
 * runtime/temporal-dev.ts), so none is left behind.
 */
export function stopOnSignals(parts: Stoppable[], log: Log, timeoutMs: number): void {
  let first: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (first !== null) {
      if (Date.now() - first < REPEAT_GRACE_MS) return;
      log(`${signal} again: exiting without waiting for the stop to finish`, { level: 'warn' });
      process.exit(1);
    }
    first = Date.now();
    log(`${signal}: stopping (within ${timeoutMs / 1000} s; send it again to exit at once)`);
    void stopParts(parts, log, timeoutMs).then((stopped) => process.exit(stopped ? 0 : 1));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

/**
 * Stops the parts in reverse start order, one after the other (a failing one is logged, the
 * next still stopped). True once all have stopped; false if one of them failed to (the exit
 * status then says so), or if `timeoutMs` passes first, having logged which part was still
 * stopping. Never waits longer than that.
 */
export async function stopParts(parts: Stoppable[], log: Log, timeoutMs: number): Promise<boolean> {
  let current = '';
  let failed = false;
  const all = (async () => {
    const named = parts.map((part, i) => ({ part, name: part.name ?? `part ${i + 1}` }));
    for (const { part, name } of named.reverse()) {
      current = name;
      try {
        await part.stop();
      } catch (e) {
        failed = true;
        log(`while stopping ${name}: ${String(e)}`, { level: 'error', err: e });
      }
    }
    return !failed;
  })();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((res) => {
    timer = setTimeout(() => res('deadline'), timeoutMs);
  });
  const outcome = await Promise.race([all, deadline]);
  clearTimeout(timer);
  if (outcome !== 'deadline') return outcome;
  log(`shutdown deadline of ${timeoutMs / 1000} s (SHUTDOWN_TIMEOUT_SECONDS) passed while stopping ${current}: exiting anyway`, { level: 'error' });
  return false;
}
