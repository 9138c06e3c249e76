import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/sql.js';
import type { Keyring } from '../domain/keyring.js';
import { openSecret } from '../domain/profile-secrets.js';
import type { Ingestion } from '../ingest/ingest.js';
import { SmppBind, type BindConfig, type BindStatus, type BindTimings } from './bind.js';
import { pruneUnmatchedReceipts } from '../outbound/delivery-reports.js';
import { pruneConcatRefs } from '../outbound/sms-parts.js';
import { joinReady, pruneSeen, type MoStoreOptions } from './mo-store.js';

export type SmppOptions = MoStoreOptions & BindTimings & {
  /** how often connections are read, leases taken or renewed, and ready MOs joined */
  tickMs: number;
  leaseSeconds: number;
};

export const SMPP_DEFAULTS: SmppOptions = {
  tickMs: 5_000,
  leaseSeconds: 30,
  enquireLinkMs: 30_000,
  backoffInitialMs: 1_000,
  backoffMaxMs: 60_000,
  reassemblyTimeoutMs: 120_000,
  redeliveryWindowMs: 600_000,
};

type ConnectionRow = {
  id: string; name: string; host: string; port: number; system_id: string; password: string;
  system_type: string; bind_type: 'transceiver' | 'receiver'; tls: boolean; enabled: boolean; gateway_revoked: boolean;
};

/** What a bind is made of: a change to anything else (name, max_tps, gateway) keeps the bind up. */
const bindVersion = (r: ConnectionRow) => JSON.stringify([r.host, r.port, r.system_id, r.password, r.system_type, r.bind_type, r.tls]);

type Held = { bind: SmppBind; version: string; expiry: NodeJS.Timeout };

/** What the API shows of a bind: live here when this process holds it, else as its holder last wrote it. */
export type SmppBindView = BindStatus & { holder: string | null };

/**
 * The SMPP binds of one API process (SPEC §8). Every connection that is enabled is bound by
 * exactly one process: a lease per connection (`smpp_binds`), taken or renewed by one
 * statement each tick and written with the bind's live state, so any process can show it. A
 * process that loses its lease (or cannot renew it before it runs out: PostgreSQL unreachable)
 * unbinds, and another takes the connection once the lease has run out.
 */
export class SmppBinds {
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private held = new Map<string, Held>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastPrune = 0;
  readonly options: SmppOptions;

  constructor(
    /** `temporal` tells runs of the delivery receipts the binds receive (SPEC §8); without it they are recorded only */
    private readonly deps: { sql: Sql; ingestion: Ingestion; secrets: Keyring; log: (line: string) => void; temporal?: Client | null },
    options: Partial<SmppOptions> = {},
  ) {
    this.options = { ...SMPP_DEFAULTS, ...options };
  }

  start(): this {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.tickMs);
    return this;
  }

  /** One round now (after any running one): an API write calls it so a change applies at once. */
  refresh(): Promise<void> {
    if (this.stopped) return this.ticking;
    this.ticking = this.ticking.then(() => this.tick()).catch((e) => this.deps.log(`smpp: ${e instanceof Error ? e.message : String(e)}`));
    return this.ticking;
  }

  /** The live state of a bind this process holds; null when it holds none for that connection. */
  local(id: string): SmppBindView | null {
    const h = this.held.get(id);
    return h ? { ...structuredClone(h.bind.status), holder: this.holder } : null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    const ids = [...this.held.keys()];
    await Promise.all(ids.map((id) => this.release(id, 'stopping')));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { sql } = this.deps;
    // A connection whose gateway is revoked is not bound (SPEC §5): its credential no longer delivers MOs.
    const rows = await sql<ConnectionRow[]>`
      SELECT c.id, c.name, c.host, c.port, c.system_id, c.password, c.system_type, c.bind_type, c.tls, c.enabled,
             coalesce(g.revoked_at IS NOT NULL, false) AS gateway_revoked
      FROM smpp_connections c LEFT JOIN gateways g ON g.id = c.gateway_id`;
    const wanted = new Map(rows.filter((r) => r.enabled && !r.gateway_revoked).map((r) => [r.id, r]));
    for (const id of [...this.held.keys()]) if (!wanted.has(id)) await this.release(id, 'disabled, deleted, or its gateway revoked');
    for (const row of wanted.values()) {
      if (this.stopped) return;
      await this.hold(row).catch((e) => this.deps.log(`smpp ${row.name}: lease: ${e instanceof Error ? e.message : String(e)}`));
    }
    // A message the sweep joins (its last part's own join lost the race, or its timeout passed)
    // counts on the bind that received it, as one its part's join stored would.
    await joinReady(this.deps, this.options, { connectionIds: [...this.held.keys()], onStored: (id) => this.held.get(id)?.bind.countJoined() });
    if (Date.now() - this.lastPrune > 60_000) {
      this.lastPrune = Date.now();
      await pruneSeen(sql, this.options.redeliveryWindowMs);
      await pruneUnmatchedReceipts(sql);
      await pruneConcatRefs(sql);
    }
  }

  /** Takes or renews the connection's lease (with the bind's state); binds when newly held, rebinds when the connection changed. */
  private async hold(row: ConnectionRow): Promise<void> {
    const current = this.held.get(row.id);
    const status = current ? current.bind.status : null;
    const asked = Date.now(); // the lease runs from no earlier than this
    const rows = await this.deps.sql`
      INSERT INTO smpp_binds (connection_id, holder, until, status)
      VALUES (${row.id}, ${this.holder}, now() + ${`${this.options.leaseSeconds} seconds`}::interval, ${this.deps.sql.json((status ?? {}) as never)})
      ON CONFLICT (connection_id) DO UPDATE SET holder = excluded.holder, until = excluded.until, status = excluded.status
      WHERE smpp_binds.until < now() OR smpp_binds.holder = excluded.holder
      RETURNING holder`;
    const version = bindVersion(row);
    if (rows.length === 0) {
      // Someone else holds it (this process lost it, say after a pause longer than the lease).
      if (current) await this.unbind(row.id, 'lease taken by another process', { leaseLost: true });
      return;
    }
    if (current && current.version === version) {
      this.expireAfter(current, row.id, asked);
      return;
    }
    if (current) await this.unbind(row.id, 'connection changed');
    const config: BindConfig = {
      id: row.id, name: row.name, host: row.host, port: row.port, systemId: row.system_id,
      password: openSecret(this.deps.secrets, row.password), systemType: row.system_type, bindType: row.bind_type, tls: row.tls,
    };
    const bind = new SmppBind(config, this.deps, this.options, this.options);
    const held: Held = { bind, version, expiry: setTimeout(() => {}, 0) };
    this.expireAfter(held, row.id, asked);
    this.held.set(row.id, held);
    bind.start();
  }

  /**
   * A lease this process cannot renew (PostgreSQL unreachable, a renewal hung) runs out on its
   * own: the bind is dropped a margin before it could, whatever the ticks are doing, so two
   * processes are never bound for one connection.
   */
  private expireAfter(held: Held, id: string, from: number): void {
    clearTimeout(held.expiry);
    const margin = Math.min(5_000, this.options.leaseSeconds * 200);
    const left = from + this.options.leaseSeconds * 1000 - margin - Date.now();
    held.expiry = setTimeout(() => {
      if (this.held.get(id) === held) void this.unbind(id, 'lease not renewed', { leaseLost: true });
    }, Math.max(0, left));
  }

  private async unbind(id: string, why: string, opts: { leaseLost?: boolean } = {}): Promise<void> {
    const h = this.held.get(id);
    if (!h) return;
    this.held.delete(id);
    clearTimeout(h.expiry);
    this.deps.log(`smpp ${h.bind.config.name}: unbinding (${why})`);
    // A lost lease leaves no time to wait for MOs being stored: another process may bind soon.
    await h.bind.stop(opts.leaseLost ? 0 : 5000);
  }

  private async release(id: string, why: string): Promise<void> {
    await this.unbind(id, why);
    await this.deps.sql`UPDATE smpp_binds SET until = '-infinity', status = '{}' WHERE connection_id = ${id} AND holder = ${this.holder}`.catch(() => {});
  }
}

export function startSmppBinds(deps: ConstructorParameters<typeof SmppBinds>[0], options: Partial<SmppOptions> = {}): SmppBinds {
  return new SmppBinds(deps, options).start();
}
