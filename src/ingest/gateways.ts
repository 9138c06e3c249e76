import type { Sql } from '../db/sql.js';
import { ValidationError } from '../domain/errors.js';
import type { Gateway } from '../domain/gateways.js';

type Entry = { gateway: Gateway; at: number };

/**
 * The gateways' credentials (SPEC §5), by the SHA-256 of their token, kept in memory so that
 * an MO costs no extra query. Live gateways are kept for `ttlMs` (5 s); a token that is no live
 * gateway's is remembered as such for `missTtlMs` (3 s), at most `maxMisses` of them (the
 * oldest go first), so a client trying tokens costs PostgreSQL one query per token and period,
 * not one per request. Everything is dropped when this process changes a gateway
 * (`invalidate`), when any process does (migration 013's trigger NOTIFYs `gateways_changed` on
 * commit: a gateway made a moment ago works at once wherever the notice arrives), and, for a
 * listen connection that is down, after the periods above; a lost listen connection clears
 * everything when it comes back. So a revoked token is refused at once by the process that
 * revoked it, within milliseconds by the others, and within 5 s whatever happens.
 */
export class GatewayCache {
  private readonly entries = new Map<string, Entry>();
  /** token hashes that were no live gateway's, and when that was read */
  private readonly misses = new Map<string, number>();
  /** bumped on every invalidation: a read that raced one is used once, not kept */
  private generation = 0;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly opts: { ttlMs?: number; maxEntries?: number; missTtlMs?: number; maxMisses?: number } = {},
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
    this.misses.clear();
  }

  /** The live (not revoked) gateway whose token hashes to `tokenHash`, or null. */
  async byTokenHash(tokenHash: string): Promise<Gateway | null> {
    const hit = this.entries.get(tokenHash);
    if (hit && Date.now() - hit.at < (this.opts.ttlMs ?? 5_000)) return hit.gateway;
    const missed = this.misses.get(tokenHash);
    if (missed !== undefined && Date.now() - missed < (this.opts.missTtlMs ?? 3_000)) return null;
    const generation = this.generation;
    const [row] = await this.sql<Gateway[]>`
      SELECT id, name, numbers FROM gateways WHERE token_hash = ${tokenHash} AND revoked_at IS NULL`;
    if (!row) {
      this.entries.delete(tokenHash);
      if (generation === this.generation) {
        this.misses.delete(tokenHash);
        this.misses.set(tokenHash, Date.now());
        if (this.misses.size > (this.opts.maxMisses ?? 10_000)) this.misses.delete(this.misses.keys().next().value!);
      }
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

/**
 * A gateway an SMPP connection may be given (SPEC §5): a revoked one is refused, 409 naming
 * `gateway_id`, since its connection would never be bound; one that does not exist is left to
 * the foreign key (400).
 */
export async function assertGatewayUsable(sql: Sql, gatewayId: string | null | undefined): Promise<void> {
  if (!gatewayId) return;
  const [row] = await sql<{ name: string; revoked: boolean }[]>`SELECT name, revoked_at IS NOT NULL AS revoked FROM gateways WHERE id = ${gatewayId}`;
  if (row?.revoked) throw new ValidationError('gateway_id', `gateway ${JSON.stringify(row.name)} is revoked: a connection under it would never be bound`, 'gateway_revoked', 409);
}
