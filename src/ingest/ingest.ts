import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { MatchResult } from '../domain/matching.js';
import { normalizeNumber } from '../domain/phone.js';
import { customerNumber, matchRoute, RoutingCache } from './routing.js';
import { IngestLoad, RunStarter, type StarterDeps, type StarterOptions } from './starter.js';
import { MessageWriter, type StoredMessage } from './writer.js';
import { workflowIdFor } from '../workflows/definitions.js';

export const inboundInputSchema = z.object({
  id: z.string().trim().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, 'may hold letters, digits and . _ : - only').nullish(),
  source: z.string().trim().min(3).max(32),
  recipient: z.string().trim().min(3).max(32),
  message: z.string().max(5000),
  operator: z.string().max(100).nullish(),
  circle: z.string().max(100).nullish(),
  received_at: z.iso.datetime({ offset: true }).nullish(),
});
export type InboundInput = z.output<typeof inboundInputSchema>;

export type IngestResult = {
  id: string;
  outcome: MatchResult['outcome'];
  config_id: string | null;
  workflow_id: string | null;
};

export type IngestDeps = { routing: RoutingCache; writer: MessageWriter; starter: RunStarter };

/** The parts of ingest one API process shares between its requests. */
export type Ingestion = IngestDeps & { load: IngestLoad };

export function createIngestion(deps: Omit<StarterDeps, 'load'>, starterOptions: StarterOptions = {}): Ingestion {
  const load = new IngestLoad();
  return {
    load,
    routing: new RoutingCache(deps.sql),
    writer: new MessageWriter(deps.sql),
    starter: new RunStarter({ ...deps, load }, starterOptions),
  };
}

/**
 * SPEC §3 and §5: the message is matched (against the in-process routing cache) and stored
 * (one INSERT, group-committed with concurrent requests) before anyone is told it was
 * accepted; a repeated carrier id returns the first answer and starts nothing. Its run is
 * started in the background, after the answer.
 */
export async function ingest(deps: IngestDeps, input: InboundInput): Promise<{ result: IngestResult; duplicate: boolean }> {
  const id = input.id ?? randomUUID();
  const { recipient, route } = await deps.routing.lookup(normalizeNumber(input.recipient));
  // A carrier's clock may run ahead; a time in the future would win every later opt-in or
  // opt-out of this customer, so it is taken as now.
  const now = new Date();
  const receivedAt = input.received_at && new Date(input.received_at) < now ? new Date(input.received_at) : now;
  const match = matchRoute(route, input.message, receivedAt);
  const source = customerNumber(normalizeNumber(input.source), recipient, route, match.sid);
  const needsRun = match.outcome === 'keyword' || match.outcome === 'expired' || match.outcome === 'default';

  const written = await deps.writer.write({
    id, sid: match.sid, source, recipient, message: input.message, operator: input.operator ?? null,
    circle: input.circle ?? null, receivedAt, keyword: match.keyword, outcome: match.outcome, configId: match.configId,
    matchedWords: match.matchedWords, workflowId: needsRun ? workflowIdFor(id) : null, needsRun,
  });
  const { row } = written;
  if (!written.inserted) return { result: publicResult(row), duplicate: true };
  // A customer's messages start in the order they came. Older ones of theirs still waiting in
  // this process's starter are waited for there; any other (stored during an outage, or queued
  // by another API process) means this one waits for the dispatcher behind them.
  if (row.dispatch_state === 'pending' && written.olderPending.length <= 50 && written.olderPending.every((o) => deps.starter.holds(o))) {
    deps.starter.enqueue({ id: row.id, sid: row.sid!, recipient: row.recipient, keyword: row.keyword, outcome: row.outcome }, `${recipient} ${source}`);
  }
  return { result: publicResult(row), duplicate: false };
}

function publicResult(s: StoredMessage): IngestResult {
  return { id: s.id, outcome: s.outcome as IngestResult['outcome'], config_id: s.config_id, workflow_id: s.workflow_id };
}
