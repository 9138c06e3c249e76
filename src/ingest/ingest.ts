import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Sql } from '../db/sql.js';
import { firstWord, matchMessage, type KeywordCandidate, type MatchResult } from '../domain/matching.js';
import { countryOf, customerE164, isE164, normalizeNumber } from '../domain/phone.js';
import type { RunStarter } from './starter.js';
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

type Stored = IngestResult & { seq?: string; sid: string | null; recipient: string; keyword: string | null; dispatch_state: string };

export type IngestDeps = { sql: Sql; starter: RunStarter };

/**
 * SPEC §3 and §5: the message is matched and stored in one statement before anyone is told
 * it was accepted; a repeated carrier id returns the first answer and starts nothing.
 */
export async function ingest(deps: IngestDeps, input: InboundInput): Promise<{ result: IngestResult; duplicate: boolean }> {
  const { sql } = deps;
  const id = input.id ?? randomUUID();
  const existing = await findStored(sql, id);
  if (existing) return { result: publicResult(existing), duplicate: true };

  const recipient = await resolveRecipient(sql, normalizeNumber(input.recipient));
  // A carrier's clock may run ahead; a time in the future would win every later opt-in or
  // opt-out of this customer, so it is taken as now.
  const now = new Date();
  const receivedAt = input.received_at && new Date(input.received_at) < now ? new Date(input.received_at) : now;
  const match = await matchForNumber(sql, recipient, input.message, receivedAt);
  const source = await customerNumber(sql, normalizeNumber(input.source), recipient, match.sid);
  const needsRun = match.outcome === 'keyword' || match.outcome === 'expired' || match.outcome === 'default';
  const workflowId = needsRun ? workflowIdFor(id) : null;

  const [inserted] = await sql<Stored[]>`
    INSERT INTO inbound_messages (id, sid, source, recipient, message, operator, circle, received_at,
                                  keyword, outcome, config_id, matched_words, workflow_id, dispatch_state)
    VALUES (${id}, ${match.sid}, ${source}, ${recipient}, ${input.message}, ${input.operator ?? null},
            ${input.circle ?? null}, ${receivedAt}, ${match.keyword}, ${match.outcome}, ${match.configId},
            ${match.matchedWords}, ${workflowId}, ${needsRun ? 'pending' : 'none'})
    ON CONFLICT (id) DO NOTHING
    RETURNING id, seq, sid, recipient, keyword, outcome, config_id, workflow_id, dispatch_state`;
  if (!inserted) {
    // Lost a race with the same carrier id arriving twice at once: the first one stands.
    const first = await findStored(sql, id);
    return { result: publicResult(first!), duplicate: true };
  }
  if (needsRun) {
    // A customer's messages start in the order they came. Older ones of theirs still waiting
    // in this process's starter are waited for there; any other (stored during an outage, or
    // queued by another API process) means this one waits for the dispatcher behind them.
    const older = await sql<{ id: string }[]>`
      SELECT id FROM inbound_messages
      WHERE dispatch_state = 'pending' AND recipient = ${recipient} AND source = ${source} AND seq < ${inserted.seq!}`;
    if (older.every((o) => deps.starter.holds(o.id))) {
      const m = { id: inserted.id, sid: inserted.sid!, recipient: inserted.recipient, keyword: inserted.keyword, outcome: inserted.outcome };
      deps.starter.enqueue(m, `${recipient} ${source}`);
    }
  }
  return { result: publicResult(inserted), duplicate: false };
}

/**
 * Numbers are stored in E.164; a carrier may send a long code's 10 national digits. When one
 * long code ends in those digits it is the one meant; otherwise the number is taken as given.
 */
async function resolveRecipient(sql: Sql, recipient: string): Promise<string> {
  if (!/^\d{10}$/.test(recipient)) return recipient;
  const matches = await sql<{ number: string }[]>`
    SELECT number FROM numbers WHERE kind = 'long_code' AND number LIKE ${'%' + recipient} LIMIT 2`;
  return matches.length === 1 ? matches[0]!.number : recipient;
}

/**
 * A national customer number is read as a number of the long code's country (the carrier's
 * network), else of the account's country (a short code): one customer is one E.164 number
 * for opt-outs, however the carrier writes it.
 */
async function customerNumber(sql: Sql, raw: string, recipient: string, sid: string | null): Promise<string> {
  if (isE164(raw)) return raw;
  let country = countryOf(recipient);
  if (!country && sid) {
    const [account] = await sql<{ country: string }[]>`SELECT country FROM accounts WHERE sid = ${sid}`;
    country = account?.country ?? null;
  }
  return customerE164(raw, country) ?? raw;
}

async function findStored(sql: Sql, id: string): Promise<Stored | undefined> {
  const [row] = await sql<Stored[]>`
    SELECT id, sid, recipient, keyword, outcome, config_id, workflow_id, dispatch_state
    FROM inbound_messages WHERE id = ${id}`;
  return row;
}

function publicResult(s: Stored): IngestResult {
  return { id: s.id, outcome: s.outcome, config_id: s.config_id, workflow_id: s.workflow_id };
}

type CandidateRow = { config_id: string; sid: string; phrase: string; keyword: string; expires_at: Date | null };

/** Looks candidates up by number and first word (an index), then lets the pure matcher decide. */
export async function matchForNumber(
  sql: Sql,
  recipient: string,
  message: string,
  receivedAt: Date,
): Promise<MatchResult & { sid: string | null }> {
  const [num] = await sql<{ number: string; owner: string | null }[]>`
    SELECT n.number,
           -- a shared short code has no owner: unmatched traffic is no single tenant's to read
           CASE WHEN n.shared THEN NULL ELSE (SELECT min(sid) FROM number_accounts na WHERE na.number = n.number) END AS owner
    FROM numbers n WHERE n.number = ${recipient}`;
  if (!num) return { outcome: 'unknown_number', configId: null, keyword: null, matchedWords: 0, sid: null };
  const word = firstWord(message);
  const rows = word
    ? await sql<CandidateRow[]>`
        SELECT k.config_id, k.sid, k.phrase, c.keyword, c.expires_at
        FROM config_keywords k JOIN receive_configs c ON c.id = k.config_id
        WHERE k.number = ${recipient} AND k.first_word = ${word}`
    : [];
  const [def] = await sql<{ id: string; sid: string }[]>`
    SELECT id, sid FROM receive_configs WHERE number = ${recipient} AND is_default`;
  const candidates: KeywordCandidate[] = rows.map((r) => ({
    configId: r.config_id, phrase: r.phrase, keyword: r.keyword, expiresAt: r.expires_at,
  }));
  const result = matchMessage({ message, candidates, defaultConfigId: def?.id ?? null, receivedAt });
  const sid =
    result.configId === null ? num.owner
    : result.configId === def?.id ? def.sid
    : rows.find((r) => r.config_id === result.configId)!.sid;
  return { ...result, sid };
}
