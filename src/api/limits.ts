import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { Queryable } from '../db/sql.js';
import { clientKey, FixedWindow, secondsUntilUtcMidnight, utcDay } from '../domain/rate-limits.js';
import { metrics } from '../runtime/metrics.js';
import { ApiError } from './errors.js';

/**
 * SPEC §5.2 "Limits": client addresses that fail too many credentials (and console sign-ins)
 * are throttled in this process, and an account's sends through the send API are counted per
 * UTC day in PostgreSQL against its `daily_limit`.
 */

declare module 'hono' {
  interface ContextVariableMap {
    /** this app's throttle (createApp sets it on every request); the guards consult it */
    limits: ClientLimits;
  }
}

/**
 * The socket's remote address. Forwarding headers are not read: the project has no
 * trusted-proxy setting, and anyone can write X-Forwarded-For. An in-process request
 * (`app.request`, which has no socket) is counted as `local`.
 */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'local';
  } catch {
    return 'local';
  }
}

const KNOWN_MAX = 10_000;

export class ClientLimits {
  private readonly failures: FixedWindow;
  private readonly signIns: FixedWindow;
  /**
   * Credentials this process verified lately (`account:<sid>:<key hash>`, `gateway:<token
   * hash>`). An address over its limit is refused before any query, unless its credential is
   * one of these: then it is checked as always (a rotated key is still refused at once), so a
   * client that shares an address with an attacker keeps working and junk costs no query.
   */
  private readonly known = new Map<string, true>();

  constructor(opts: { failedAuthPerMinute: number; signInFailuresPerMinute: number }, now: () => number = Date.now) {
    this.failures = new FixedWindow(opts.failedAuthPerMinute, 60_000, now);
    this.signIns = new FixedWindow(opts.signInFailuresPerMinute, 60_000, now);
  }

  /** Throws the 429 when the request's address is over its failures, and `credential` is not one verified lately. */
  screen(c: Context, credential?: string | null): void {
    const wait = this.failures.blocked(clientKey(clientAddress(c)));
    if (wait === null || (credential && this.known.has(credential))) return;
    metrics.throttled.inc({ scope: 'api' });
    throw new ApiError(429, 'throttled', `too many failed credentials from this address; try again in ${wait} s`, undefined, { 'Retry-After': String(wait) });
  }

  /** A missing or wrong credential from the request's address. */
  failed(c: Context): void {
    this.failures.hit(clientKey(clientAddress(c)));
  }

  verified(credential: string): void {
    this.known.delete(credential);
    this.known.set(credential, true);
    if (this.known.size > KNOWN_MAX) this.known.delete(this.known.keys().next().value!);
  }

  /** Seconds the address must wait before its next console sign-in, or null. */
  signInBlocked(c: Context): number | null {
    const wait = this.signIns.blocked(clientKey(clientAddress(c)));
    if (wait !== null) metrics.throttled.inc({ scope: 'sign_in' });
    return wait;
  }

  signInFailed(c: Context): void {
    this.signIns.hit(clientKey(clientAddress(c)));
  }
}

/** The limits of the app serving `c`, if it keeps any (a bare route group in a unit test does not). */
export const limitsOf = (c: Context): ClientLimits | undefined => c.get('limits') as ClientLimits | undefined;

/**
 * Takes one of the account's sends for the UTC day of `now`, in one statement: the counter row
 * is locked by the upsert, so two sends at once cannot both take the last slot. False when the
 * day's `daily_limit` is used up (a limit of 0 refuses every send). Every send is counted, with
 * or without a limit, so a limit set during the day counts what was sent before it.
 */
export async function takeDailySend(sql: Queryable, sid: string, now: Date): Promise<boolean> {
  const rows = await sql`
    INSERT INTO account_daily_sends AS d (sid, day, sent)
    SELECT sid, ${utcDay(now)}::date, 1 FROM accounts WHERE sid = ${sid} AND coalesce(daily_limit > 0, true)
    ON CONFLICT (sid, day) DO UPDATE SET sent = d.sent + 1
    WHERE d.sent < coalesce((SELECT daily_limit FROM accounts WHERE sid = d.sid), 2147483647)
    RETURNING sent`;
  return rows.length > 0;
}

/** Gives back a send taken for a request that sent nothing new (a retry, an opt-out, a failure). */
export async function returnDailySend(sql: Queryable, sid: string, now: Date): Promise<void> {
  await sql`UPDATE account_daily_sends SET sent = sent - 1 WHERE sid = ${sid} AND day = ${utcDay(now)}::date AND sent > 0`;
}

export function dailyLimitReached(now: Date): ApiError {
  const wait = secondsUntilUtcMidnight(now);
  metrics.dailyLimitRefusals.inc();
  return new ApiError(429, 'daily_limit', `the account's daily_limit of SMS for today (UTC) is reached; try again in ${wait} s`, 'daily_limit', {
    'Retry-After': String(wait),
  });
}
