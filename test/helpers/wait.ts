import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` every 100 ms until it answers something (not null, undefined or false), for at
 * most `timeoutMs`; a clear failure naming `what` after that, rather than the test's timeout.
 */
export async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A promise's result, or a clear failure rather than the test's timeout. */
export function within<T>(what: string, p: Promise<T>, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}
