import { createHash } from 'node:crypto';
import type { Sql } from '../db/sql.js';
import { decodeText, fitMoText, joinParts, type MoPart } from '../domain/smpp-text.js';
import { gatewayServes } from '../domain/gateways.js';
import { normalizeNumber } from '../domain/phone.js';
import { ingest, inboundInputSchema, type Ingestion } from '../ingest/ingest.js';

/**
 * Storing SMPP MOs (SPEC §5, §8): every path ends in the same `ingest` HTTP uses. A
 * deliver_sm is answered ESME_ROK only once what it carried is in PostgreSQL: a single MO as
 * an inbound message, a part of a concatenated one as a row of `smpp_parts` (joined and
 * ingested when the last part comes or the reassembly timeout passes).
 */
export type MoStoreDeps = { sql: Sql; ingestion: Ingestion };

export type MoStoreOptions = {
  /** how long the parts of a concatenated MO wait for the rest before what came is stored */
  reassemblyTimeoutMs: number;
  /** how long a deliver_sm delivered again is recognised as the one stored before */
  redeliveryWindowMs: number;
};

/** An MO the SMSC should not deliver again: no retry makes it storable (an unusable address). */
export class UnstorableMo extends Error {
  constructor(readonly field: 'source' | 'destination', message: string) {
    super(message);
  }
}

/** An MO on a connection whose gateway is revoked (its bind is let go within a tick): the SMSC should deliver it again later, or elsewhere. */
export class GatewayRevoked extends Error {}

/** A connection's gateway (SPEC §5), as an MO on its bind is judged: null is the default gateway, limited to nothing. */
type ConnectionGateway = { id: string; name: string; numbers: string[] | null; revoked: boolean } | null;

/**
 * Whether the connection's gateway may deliver an MO to `destination` (SPEC §5, as for HTTP):
 * a revoked gateway's MO gets a temporary error (GatewayRevoked: nothing is stored under a
 * revoked credential, and nothing is lost if the connection is given a live gateway), one to a
 * number the gateway is not limited to a permanent one (UnstorableMo: the SMSC must not loop
 * on it). The destination is compared as ingest resolves it (a national form of a long code
 * counts as that long code).
 */
async function admit(deps: MoStoreDeps, gateway: ConnectionGateway, destination: string): Promise<string | null> {
  if (!gateway) return null;
  if (gateway.revoked) throw new GatewayRevoked(`gateway ${JSON.stringify(gateway.name)} of this connection is revoked`);
  if (gateway.numbers !== null) {
    const { recipient } = await deps.ingestion.routing.lookup(normalizeNumber(destination));
    if (!gatewayServes(gateway, recipient)) {
      throw new UnstorableMo('destination', `${recipient} is not one of the numbers gateway ${JSON.stringify(gateway.name)} may deliver to`);
    }
  }
  return gateway.id;
}

/** The connection's gateway, as one JSON value (null: the default gateway, or a connection deleted meanwhile). */
const gatewayOf = (sql: Sql, connectionId: string) => sql`
  (SELECT json_build_object('id', g.id, 'name', g.name, 'numbers', g.numbers, 'revoked', g.revoked_at IS NOT NULL)
   FROM smpp_connections c JOIN gateways g ON g.id = c.gateway_id WHERE c.id = ${connectionId})`;

export type Addressed = { connectionId: string; source: string; destination: string; userMessageReference: number | null };

const sha256 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('hex');
};

/** Refuses, for good, only what ingest would refuse for good: the source and the recipient. */
export function checkAddresses(source: string, destination: string): void {
  const check = inboundInputSchema.pick({ source: true, recipient: true }).safeParse({ source, recipient: destination });
  if (check.success) return;
  const field = check.error.issues[0]?.path[0] === 'source' ? 'source' : 'destination';
  throw new UnstorableMo(field, `${field} address ${JSON.stringify(field === 'source' ? source : destination)} is not usable`);
}

/**
 * A single-part MO. SMPP gives an ESME no id for an MO, and an SMSC that never saw our
 * deliver_sm_resp delivers the same MO again (often with a new sequence_number), so the
 * carrier id is made from what the SMSC sent: a deliver_sm whose content (coding, octets, the
 * handset's message reference when the SMSC passes it) is that of the last MO from the same
 * source to the same destination on this bind, within the redelivery window, is that MO again
 * and maps to the id it got (`smpp_seen`, one row per source and destination); ingest stores
 * that id once. Any other MO in between makes a repeated text a new message, so STOP, START,
 * STOP is three messages; only the same text twice in a row, within the window and with no
 * message reference, is taken for a redelivery.
 */
export async function storeSingle(deps: MoStoreDeps, opts: MoStoreOptions, mo: Addressed, part: MoPart): Promise<{ id: string; duplicate: boolean }> {
  const conversation = sha256('single', mo.connectionId, mo.source, mo.destination);
  const digest = sha256('content', String(part.dataCoding), String(mo.userMessageReference ?? ''), part.octets);
  const fresh = `smpp:${mo.connectionId}:${digest.slice(0, 24)}:${Date.now().toString(36)}`;
  const windowSql = `${Math.ceil(opts.redeliveryWindowMs / 1000)} seconds`;
  // The connection's gateway (SPEC §5) comes along: the MO is judged by it and recorded under it.
  const [seen] = await deps.sql<{ message_id: string; gateway: ConnectionGateway }[]>`
    INSERT INTO smpp_seen (digest, content, message_id) VALUES (${conversation}, ${digest}, ${fresh})
    ON CONFLICT (digest) DO UPDATE SET
      message_id = CASE WHEN smpp_seen.content = excluded.content AND smpp_seen.first_at >= now() - ${windowSql}::interval
                        THEN smpp_seen.message_id ELSE excluded.message_id END,
      first_at = CASE WHEN smpp_seen.content = excluded.content AND smpp_seen.first_at >= now() - ${windowSql}::interval
                      THEN smpp_seen.first_at ELSE now() END,
      content = excluded.content
    RETURNING message_id, ${gatewayOf(deps.sql, mo.connectionId)} AS gateway`;
  const gatewayId = await admit(deps, seen!.gateway, mo.destination);
  const decoded = fitMoText(decodeText(part.octets, part.dataCoding));
  // Ingested every time, even when seen before: the first attempt may have stopped between the
  // two statements; a stored id is answered as a duplicate and starts nothing.
  const { result, duplicate } = await ingest(
    deps.ingestion,
    { id: seen!.message_id, source: mo.source, recipient: mo.destination, message: decoded.text },
    { notes: [...part.notes, ...decoded.notes], gatewayId, channel: 'smpp' },
  );
  return { id: result.id, duplicate };
}

/** A part of a concatenated MO, stored (once: a redelivered part finds its digest) before it is answered. */
export async function storePart(deps: MoStoreDeps, mo: Addressed, part: MoPart): Promise<{ inserted: boolean }> {
  const c = part.concat!;
  // Judged part by part, before it is kept: a kept part is joined and stored whatever happens next.
  const [connection] = await deps.sql<{ gateway: ConnectionGateway }[]>`SELECT ${gatewayOf(deps.sql, mo.connectionId)} AS gateway`;
  await admit(deps, connection!.gateway, mo.destination);
  const digest = sha256('part', mo.connectionId, mo.source, mo.destination, c.ref, String(c.total), String(c.seq), String(part.dataCoding), part.octets);
  const rows = await deps.sql`
    INSERT INTO smpp_parts (connection_id, source, destination, ref, total, seq, data_coding, octets, digest)
    VALUES (${mo.connectionId}, ${mo.source}, ${mo.destination}, ${c.ref}, ${c.total}, ${c.seq}, ${part.dataCoding}, ${Buffer.from(part.octets)}, ${digest})
    ON CONFLICT (digest) DO NOTHING RETURNING id`;
  return { inserted: rows.length > 0 };
}

type GroupKey = { connection_id: string; source: string; destination: string; ref: string; total: number };
type PartRow = { id: string; seq: number; data_coding: number; octets: Buffer; digest: string; received_at: Date };

/**
 * Joins and ingests every concatenated MO that is ready: all its parts are in, or its oldest
 * part has waited `reassemblyTimeoutMs` (then what came is stored, never dropped). `only`
 * limits it to one message's parts (the one whose part just came); `connectionIds` to the
 * binds this process holds (parts of a connection deleted or disabled meanwhile, which no
 * one holds, are joined by anyone).
 * `onStored` is told the connection of each message as soon as it is stored, so that whoever
 * joined it, the part's own join or the sweep, credits the bind that received it, even when a
 * later message of the same pass cannot be stored.
 */
export async function joinReady(
  deps: MoStoreDeps,
  opts: MoStoreOptions,
  scope: { connectionIds: string[]; only?: GroupKey; onStored: (connectionId: string) => void },
): Promise<void> {
  const { sql } = deps;
  const timeout = `${Math.max(0, opts.reassemblyTimeoutMs)} milliseconds`;
  const only = scope.only;
  const groups = await sql<GroupKey[]>`
    SELECT connection_id, source, destination, ref, total
    FROM smpp_parts
    WHERE message_id IS NULL
      ${only
        ? sql`AND connection_id = ${only.connection_id} AND source = ${only.source} AND destination = ${only.destination} AND ref = ${only.ref} AND total = ${only.total}`
        : sql`AND (connection_id = ANY(${scope.connectionIds}::uuid[]) OR connection_id NOT IN (SELECT id FROM smpp_connections WHERE enabled))`}
    GROUP BY connection_id, source, destination, ref, total
    HAVING count(DISTINCT seq) >= total OR min(received_at) < now() - ${timeout}::interval
    LIMIT 100`;
  const failures: unknown[] = [];
  for (const g of groups) {
    try {
      if (await joinGroup(deps, g)) scope.onStored(g.connection_id);
    } catch (e) {
      // One message that cannot be stored now must not hold back the others.
      failures.push(e);
    }
  }
  if (failures.length > 0) throw failures[0];
}

/**
 * One message's join, under a transaction-level advisory lock on its group: a sweep whose
 * timeout passed and the join of its last part, or two processes during a lease takeover,
 * would otherwise each store a message of what they read. The parts are re-read under the
 * lock, so the second finds them joined.
 */
async function joinGroup(deps: MoStoreDeps, g: GroupKey): Promise<boolean> {
  return deps.sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${`smpp-join:${g.connection_id}:${g.source}:${g.destination}:${g.ref}:${g.total}`}))`;
    return joinLocked({ ...deps, sql: tx as unknown as Sql }, g);
  });
}

/** True when it stored a message (not when the parts were gone or the message a duplicate). */
async function joinLocked(deps: MoStoreDeps, g: GroupKey): Promise<boolean> {
  const { sql } = deps;
  const parts = await sql<(PartRow & { gateway_id: string | null })[]>`
    SELECT id, seq, data_coding, octets, digest, received_at,
           (SELECT gateway_id FROM smpp_connections WHERE id = ${g.connection_id}) AS gateway_id
    FROM smpp_parts
    WHERE message_id IS NULL AND connection_id = ${g.connection_id} AND source = ${g.source}
      AND destination = ${g.destination} AND ref = ${g.ref} AND total = ${g.total}
    ORDER BY id`;
  // The first of each sequence number; a later one of the same number (the reference used
  // again by a newer message) is left for a message of its own.
  const used = new Map<number, PartRow>();
  for (const p of parts) if (!used.has(p.seq)) used.set(p.seq, p);
  const chosen = [...used.values()].sort((a, b) => a.seq - b.seq);
  if (chosen.length === 0) return false;
  const joined = fitMoText(joinParts(chosen.map((p) => ({ seq: p.seq, dataCoding: p.data_coding, octets: p.octets })), g.total));
  // The same parts always give the same id: a join interrupted after ingest is stored once.
  const id = `smpp:${g.connection_id}:${sha256(...chosen.map((p) => p.digest)).slice(0, 32)}`;
  const receivedAt = new Date(Math.min(...chosen.map((p) => p.received_at.getTime())));
  // Each part was judged by the gateway when it came (storePart); the message is stored under it
  // as it is now, as an HTTP request past its check completes after a revocation.
  const { duplicate } = await ingest(
    deps.ingestion,
    { id, source: g.source, recipient: g.destination, message: joined.text, received_at: receivedAt.toISOString() },
    { notes: joined.notes, gatewayId: parts[0]!.gateway_id, channel: 'smpp' },
  );
  await sql`UPDATE smpp_parts SET message_id = ${id} WHERE id = ANY(${chosen.map((p) => p.id)}::bigint[])`;
  return !duplicate;
}

/** Forgets what the redelivery window no longer needs: joined parts and seen digests. */
export async function pruneSeen(sql: Sql, redeliveryWindowMs: number): Promise<void> {
  const window = `${Math.ceil(redeliveryWindowMs / 1000)} seconds`;
  await sql`DELETE FROM smpp_seen WHERE first_at < now() - ${window}::interval`;
  await sql`DELETE FROM smpp_parts WHERE message_id IS NOT NULL AND received_at < now() - ${window}::interval`;
}
