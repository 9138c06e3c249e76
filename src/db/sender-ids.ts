import { senderKind, senderNumber } from '../domain/sender-ids.js';
import type { Queryable } from './sql.js';

/** Why an account may not send as a sender (SPEC §5.2; domain/sender-ids.ts). */
export type SenderProblem = 'not_registered' | 'not_held';

/**
 * The senders of `senders` the account may not send as, with the reason: an alphanumeric one
 * not registered to it (in that spelling), a numeric one that is not a number it holds today,
 * whether or not it was registered. At most one query per kind.
 */
export async function senderProblems(sql: Queryable, sid: string, senders: string[]): Promise<Map<string, SenderProblem>> {
  const alphanumeric = [...new Set(senders.filter((s) => senderKind(s) === 'alphanumeric'))];
  const numeric = [...new Set(senders.filter((s) => senderKind(s) === 'numeric'))];
  const registered = new Set(alphanumeric.length === 0 ? [] : (await sql<{ sender_id: string }[]>`
    SELECT sender_id FROM sender_ids WHERE sid = ${sid} AND sender_id IN ${sql(alphanumeric)}`).map((r) => r.sender_id));
  const held = new Set(numeric.length === 0 ? [] : (await sql<{ number: string }[]>`
    SELECT number FROM number_accounts WHERE sid = ${sid} AND number IN ${sql(numeric.map(senderNumber))}`).map((r) => r.number));
  const problems = new Map<string, SenderProblem>();
  for (const s of alphanumeric) if (!registered.has(s)) problems.set(s, 'not_registered');
  for (const s of numeric) if (!held.has(senderNumber(s))) problems.set(s, 'not_held');
  return problems;
}
