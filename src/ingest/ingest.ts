import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { consentAtIngest, type ConsentChannel } from '../domain/consent.js';
import type { MatchResult } from '../domain/matching.js';
import { assertGatewayServes, messageIdFor, type Gateway } from '../domain/gateways.js';
import { MAX_CARRIER_ID, readMoMetadata } from '../domain/mo-metadata.js';
import { normalizeNumber } from '../domain/phone.js';
import { GatewayCache } from './gateways.js';
import { customerNumber, matchRoute, RoutingCache } from './routing.js';
import { customerKey, IngestLoad, RunStarter, type StarterDeps, type StarterOptions } from './starter.js';
import { MessageWriter, type StoredMessage } from './writer.js';
import { workflowIdFor } from '../workflows/definitions.js';
import { addLogFields, type Log } from '../runtime/logger.js';
import { gatewayLabel, metrics } from '../runtime/metrics.js';

// SPEC §5: only a missing or unusable source, recipient or message is refused; the metadata
// is read by readMoMetadata, which keeps what it can and notes the rest.
const metadata = z.union([z.string(), z.number()]).nullish();
export const inboundInputSchema = z.object({
  id: metadata.describe(`the carrier's message id: any printable text up to ${MAX_CARRIER_ID} characters is kept; a longer or unprintable one is kept as its SHA-256`),
  source: z.string().trim().min(3).max(32),
  recipient: z.string().trim().min(3).max(32),
  message: z.string().max(5000),
  operator: metadata.describe('cut to 100 characters'),
  circle: metadata.describe('cut to 100 characters'),
  received_at: metadata.describe("ISO-8601, or Kaleyra's YYYY-MM-DD HH:MM:SS (UTC); a time that cannot be read, or in the future, is noted and the arrival time used"),
});
export type InboundInput = z.output<typeof inboundInputSchema>;

export type IngestResult = {
  id: string;
  outcome: MatchResult['outcome'];
  config_id: string | null;
  workflow_id: string | null;
};

export type IngestDeps = { routing: RoutingCache; writer: MessageWriter; starter: RunStarter; log?: Log };

/** The parts of ingest one API process shares between its requests. */
export type Ingestion = IngestDeps & { load: IngestLoad; gateways: GatewayCache };

export function createIngestion(deps: Omit<StarterDeps, 'load'>, starterOptions: StarterOptions = {}): Ingestion {
  const load = new IngestLoad();
  return {
    load,
    routing: new RoutingCache(deps.sql),
    gateways: new GatewayCache(deps.sql),
    writer: new MessageWriter(deps.sql),
    starter: new RunStarter({ ...deps, load }, starterOptions),
    log: deps.log,
  };
}

/** Where an MO came from, beside what it says. */
export type IngestSource = {
  /** what the channel itself noted (an SMPP coding read as best it could be, parts of a long MO that never came) */
  notes?: string[];
  /**
   * The gateway whose credential delivered it over HTTP (SPEC §5): its carrier id is scoped to
   * it (`messageIdFor`) and its number limit applies. Absent: the default gateway.
   */
  gateway?: Gateway;
  /** SMPP: the connection's gateway, recorded only; the id, made by us per connection, is unique as it is */
  gatewayId?: string | null;
  /** how it came, for the consent ledger; absent: an HTTP gateway */
  channel?: ConsentChannel;
};

/**
 * SPEC §3 and §5: the message is matched (against the in-process routing cache) and stored
 * (one INSERT, group-committed with concurrent requests) before anyone is told it was
 * accepted; a repeated carrier id returns the first answer and starts nothing. Its run is
 * started in the background, after the answer. A gateway limited to some numbers sending to
 * another is refused (403 naming `recipient`) before anything is stored.
 */
export async function ingest(deps: IngestDeps, input: InboundInput, extra: IngestSource = {}): Promise<{ result: IngestResult; duplicate: boolean }> {
  const now = new Date();
  const meta = readMoMetadata(input, now);
  const gatewayId = extra.gateway ? extra.gateway.id : (extra.gatewayId ?? null);
  const id = meta.id === null ? randomUUID() : extra.gateway ? messageIdFor(extra.gateway.id, meta.id) : meta.id;
  const receivedAt = meta.receivedAt ?? now;
  const { recipient, route } = await deps.routing.lookup(normalizeNumber(input.recipient));
  // After the lookup: a carrier's national form of a number is read as the number it stands for.
  if (extra.gateway) assertGatewayServes(extra.gateway, recipient);
  const match = matchRoute(route, input.message, receivedAt);
  const source = customerNumber(normalizeNumber(input.source), recipient, route, match.sid);
  const needsRun = match.outcome === 'keyword' || match.outcome === 'expired' || match.outcome === 'default' || match.outcome === 'standard';

  // SPEC §5.1: a STOP counts from its acknowledgement: its ledger entry is in the MO's commit.
  const consent = consentAtIngest({ outcome: match.outcome, sid: match.sid, source, message: input.message, configChange: match.consent, accounts: route?.countries ?? new Map() });

  const written = await deps.writer.write({
    id, gatewayId, sid: match.sid, source, recipient, message: input.message, operator: meta.operator,
    circle: meta.circle, receivedAt, notes: [...meta.notes, ...(extra.notes ?? [])], keyword: match.keyword, outcome: match.outcome, configId: match.configId,
    matchedWords: match.matchedWords, workflowId: needsRun ? workflowIdFor(id) : null, needsRun, consent, channel: extra.channel ?? 'http',
  });
  const { row } = written;
  // The ids tie the request's lines (its access line: one info line per HTTP MO) to the MO and its run.
  const ids = { moId: row.id, ...(row.workflow_id ? { workflowId: row.workflow_id } : {}), gateway: gatewayLabel(gatewayId), outcome: row.outcome };
  addLogFields({ ...ids, ...(written.inserted ? {} : { duplicate: true }) });
  if (!written.inserted) {
    metrics.moDuplicates.inc({ gateway: ids.gateway });
    deps.log?.('MO repeated by its carrier: answered as the first', { ...ids, level: 'debug' });
    return { result: publicResult(row), duplicate: true };
  }
  metrics.moReceived.inc({ outcome: row.outcome, gateway: ids.gateway });
  deps.log?.('MO stored', { ...ids, level: 'debug' });
  // A customer's messages start in the order they came. When their newest older message still
  // waiting is this process's starter's, this one queues behind it there; when it is not
  // (stored during an outage, refused by Temporal, or queued by another API process) this one
  // is left to the dispatcher, which starts it in order (a refused one after the fresh ones).
  const older = written.newestOlderPending;
  if (row.dispatch_state === 'pending' && (older === null || deps.starter.holds(older))) {
    deps.starter.enqueue({ id: row.id, sid: row.sid, recipient: row.recipient, source, keyword: row.keyword, outcome: row.outcome, storedAt: now }, customerKey({ recipient, source }));
  }
  return { result: publicResult(row), duplicate: false };
}

function publicResult(s: StoredMessage): IngestResult {
  return { id: s.id, outcome: s.outcome as IngestResult['outcome'], config_id: s.config_id, workflow_id: s.workflow_id };
}
