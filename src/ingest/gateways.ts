import type { Sql } from '../db/sql.js';
import type { Gateway } from '../domain/gateways.js';

type Entry = { gateway: Gateway; at: number };

/**
 * The gateways' credentials (SPEC §5), by the SHA-256 of their token, kept in memory so that
 * an MO costs no extra query. Only live gateways are kept (an unknown or revoked token is read
 * again each time, so a gateway made a moment ago works at once). An entry is dropped when
 * this process changes a gateway (`invalidate`), when any process does (migration 013's
 * trigger NOTIFYs `gateways_changed` on commit), and after `ttlMs` (5 s) as a backstop for a
 * listen connection that is down; a lost listen connection clears everything when it comes
 * back. So a revoked token is refused at once by the process that revoked it, within
 * milliseconds by the others, and within 5 s whatever happens.
 */
export class GatewayCache {
  private readonly entries = new Map<string, Entry>();
  /** bumped on every invalidation: a read that raced one is used once, not kept */
  private generation = 0;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly opts: { ttlMs?: number; maxEntries?: number } = {},
  ) {}

  /** Subscribes to gateway changes made by any process; resolves once listening. */
  async listen(): Promise<void> {
    const sub = await this.sql.listen('gateways_changed', () => this.invalidate(), () => this.invalidate());
    this.unlisten = sub.unlisten;
  }

  async close(): Promise<void> {
    await this.unlisten?.().catch(() => {});
    this.unlisten = null;
  }

  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  /** The live (not revoked) gateway whose token hashes to `tokenHash`, or null. */
  async byTokenHash(tokenHash: string): Promise<Gateway | null> {
    const hit = this.entries.get(tokenHash);
    if (hit && Date.now() - hit.at < (this.opts.ttlMs ?? 5_000)) return hit.gateway;
    const generation = this.generation;
    const [row] = await this.sql<Gateway[]>`
      SELECT id, name, numbers FROM gateways WHERE token_hash = ${tokenHash} AND revoked_at IS NULL`;
    if (!row) {
      this.entries.delete(tokenHash);
      return null;
    }
    const gateway: Gateway = { id: row.id, name: row.name, numbers: row.numbers };
    if (generation === this.generation) {
      this.entries.set(tokenHash, { gateway, at: Date.now() });
      if (this.entries.size > (this.opts.maxEntries ?? 1_000)) this.entries.delete(this.entries.keys().next().value!);
    }
    return gateway;
  }
}
