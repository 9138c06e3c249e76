/**
 * The rules behind SPEC §5.2 "Limits", without I/O: an account's day is the UTC day, and a
 * client address may fail only so many credentials (or console sign-ins) per window.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC day `now` falls in, as PostgreSQL's `date` reads it (YYYY-MM-DD). */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** Whole seconds from `now` to the next UTC midnight, at least 1: a daily_limit refusal's Retry-After. */
export function secondsUntilUtcMidnight(now: Date): number {
  const next = Math.floor(now.getTime() / DAY_MS) * DAY_MS + DAY_MS;
  return Math.max(1, Math.ceil((next - now.getTime()) / 1000));
}

/**
 * What a client address is counted under: an IPv4 address as it is (an IPv4-mapped IPv6 one
 * too), an IPv6 address by its /64, the block one subscriber is usually given, so that walking
 * through a block is one client. Anything else (no socket: an in-process request) as it is.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return address;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * A fixed window per key (a client address): at most `limit` hits per `windowMs`, the windows
 * aligned for all keys alike, so one sweep at each boundary forgets every key and memory holds
 * only the addresses seen in the current window. Past `maxKeys` addresses in one window, new
 * ones share one count: a spray of addresses cannot grow the map, only throttle itself.
 * A limit of 0 turns it off.
 */
export class FixedWindow {
  private windowStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds until `key` may try again when it has used up the window, else null. */
  blocked(key: string): number | null {
    if (this.limit <= 0) return null;
    this.roll();
    if ((this.counts.get(this.slot(key)) ?? 0) < this.limit) return null;
    return Math.max(1, Math.ceil((this.windowStart + this.windowMs - this.now()) / 1000));
  }

  hit(key: string): void {
    if (this.limit <= 0) return;
    this.roll();
    const slot = this.slot(key);
    this.counts.set(slot, (this.counts.get(slot) ?? 0) + 1);
  }

  private slot(key: string): string {
    return this.counts.has(key) || this.counts.size < this.maxKeys ? key : '*';
  }

  private roll(): void {
    const start = Math.floor(this.now() / this.windowMs) * this.windowMs;
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.counts.clear();
    }
  }
}
