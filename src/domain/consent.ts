// SPEC §5.1: consent (opt-in / opt-out) is honoured from the acknowledgement. What an MO
// changes is decided at ingest, from the same routing its run's plan reads, and written as a
// consent ledger entry in the MO's own commit.
import type { RunPlan } from '../workflows/definitions.js';
import { customerE164 } from './phone.js';
import type { PlannedAction } from './run-plan.js';
import { standardChange, standardKeyword } from './standard-keywords.js';
import { ALL_SENDERS, type SubscriptionChange } from './subscriptions.js';

export type ConsentDirection = 'opt_in' | 'opt_out';
/** what caused a change: a customer's MO, or a person through the console, the API or an operator */
export type ConsentCause = 'mo' | 'console' | 'api' | 'operator';
/** how it reached us */
export type ConsentChannel = 'http' | 'smpp' | 'console' | 'api';

/** One entry an MO writes to the ledger: one per account whose list it changes. */
export type ConsentEntry = {
  sid: string;
  msisdn: string;
  direction: ConsentDirection;
  /** ['*'] for all of the account's sender IDs */
  senders: string[];
};

/** The advisory lock a customer's consent changes are stored and applied under (hashtext of it). */
export const consentLockKey = (sid: string, msisdn: string) => `sub:${sid}:${msisdn}`;

export const directionOf = (change: SubscriptionChange): ConsentDirection => (change.kind === 'subscribe' ? 'opt_in' : 'opt_out');

export function sendersOf(change: SubscriptionChange): string[] {
  if (change.kind === 'subscribe' || change.scope === 'all') return [ALL_SENDERS];
  return [...new Set(change.senders)];
}

/** A ledger entry read back as the change it stands for. */
export function changeOf(entry: { direction: ConsentDirection | string; senders: string[] }): SubscriptionChange {
  if (entry.direction === 'opt_in') return { kind: 'subscribe' };
  return entry.senders.includes(ALL_SENDERS) ? { kind: 'unsubscribe', scope: 'all' } : { kind: 'unsubscribe', scope: 'configured', senders: entry.senders };
}

/** A configuration's own consent action, as its columns hold it. */
export function configChange(c: { subscribe: boolean; unsubscribe: { scope: 'all' } | { scope: 'configured'; senders: string[] } | null }): SubscriptionChange | null {
  if (c.subscribe) return { kind: 'subscribe' };
  if (!c.unsubscribe) return null;
  return c.unsubscribe.scope === 'all' ? { kind: 'unsubscribe', scope: 'all' } : { kind: 'unsubscribe', scope: 'configured', senders: c.unsubscribe.senders };
}

/**
 * The entries an MO writes, as its run would plan them (domain/run-plan.ts): a standard opt-out
 * or opt-in word changes its account's list, or every account's on the number when the MO is no
 * one account's (a shared short code), the customer's number read in each account's country;
 * a matched configuration with `subscribe` or `unsubscribe` changes its account's. An expired
 * configuration, HELP and anything else change nothing.
 */
export function consentAtIngest(m: {
  outcome: string;
  sid: string | null;
  /** the customer's number as stored */
  source: string;
  message: string;
  /** the matched configuration's consent action */
  configChange: SubscriptionChange | null;
  /** every account on the number with its country, for a standard word that is no one account's */
  accounts: Map<string, string>;
}): ConsentEntry[] {
  let change: SubscriptionChange | null = null;
  if (m.outcome === 'standard') {
    const standard = standardKeyword(m.message);
    change = standard ? standardChange(standard.kind) : null;
  } else if (m.outcome === 'keyword' || m.outcome === 'default') {
    change = m.configChange;
  }
  if (!change) return [];
  const entry = (sid: string, msisdn: string): ConsentEntry => ({ sid, msisdn, direction: directionOf(change), senders: sendersOf(change) });
  if (m.sid) return [entry(m.sid, m.source)];
  if (m.outcome !== 'standard') return [];
  return [...m.accounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sid, country]) =>
    entry(sid, customerE164(m.source, country ? country.trim() : null) ?? m.source));
}

/**
 * The run records what the MO's ledger entries say, not what its configuration says now: the
 * entries were written, and took effect, when the MO was acknowledged (a configuration edited
 * since cannot leave one pending for ever, nor record a change that never took effect). A plan
 * for an MO with no entries (stored before the ledger) is left as it is.
 */
export function planConsent(plan: RunPlan, actions: PlannedAction[], entries: (ConsentEntry & { via_number?: string | null })[], m: { id: string; recipient: string; received_at: Date }): PlannedAction[] {
  if (entries.length === 0) return actions;
  const first = entries[0]!;
  const change = changeOf(first);
  const type = change.kind;
  plan.subscription = {
    type, logId: m.id, sids: entries.map((e) => e.sid), msisdn: first.msisdn,
    ...(entries.some((e) => e.msisdn !== first.msisdn) ? { msisdns: Object.fromEntries(entries.map((e) => [e.sid, e.msisdn])) } : {}),
    viaNumber: m.recipient, change, receivedAt: m.received_at.toISOString(),
  };
  return [...actions.filter((a) => a.type !== 'subscribe' && a.type !== 'unsubscribe'), { type, status: 'pending', detail: {} }];
}
