/** '*' stands for every sender ID of the account, those registered later included. */
export const ALL_SENDERS = '*';

export type SubscriptionState = { sender_id: string; status: 'subscribed' | 'unsubscribed' };
/**
 * SPEC §5.1: where a change stands among the customer's changes: its consent ledger entry's
 * id, given in arrival order (the order the service stored the MOs), never a carrier's
 * timestamp, which may be in another time zone or simply wrong.
 */
export type ChangeOrder = { seq: number };

/** A stored row: its state and the ledger entry that last changed it (0: before the ledger). */
export type StoredSubscription = SubscriptionState & { changed_entry: number | string };

const later = (row: StoredSubscription, than: ChangeOrder) => Number(row.changed_entry) > than.seq;

export type SubscriptionChange =
  | { kind: 'subscribe' }
  | { kind: 'unsubscribe'; scope: 'all' }
  | { kind: 'unsubscribe'; scope: 'configured'; senders: string[] };

/** A customer is opted out of a sender when opted out of it by name or of all senders. */
export function isOptedOut(states: SubscriptionState[], sender: string): boolean {
  return states.some((s) => (s.sender_id === sender || s.sender_id === ALL_SENDERS) && s.status === 'unsubscribed');
}

/**
 * The rows a change writes. Subscribing opts the customer back in to everything they had
 * opted out of; unsubscribing names the senders, or '*' for all of them. A change that came
 * before what a row already holds is left out (a retried activity must not undo a later
 * change), and a later change to '*' (all senders) outranks an earlier one to one sender.
 */
export function subscriptionWrites(change: SubscriptionChange, current: StoredSubscription[], order: ChangeOrder): SubscriptionState[] {
  let writes: SubscriptionState[];
  if (change.kind === 'subscribe') {
    const senders = new Set([ALL_SENDERS, ...current.map((s) => s.sender_id)]);
    writes = [...senders].map((sender_id) => ({ sender_id, status: 'subscribed' as const }));
  } else if (change.scope === 'all') {
    writes = [{ sender_id: ALL_SENDERS, status: 'unsubscribed' }];
  } else {
    writes = [...new Set(change.senders)].map((sender_id) => ({ sender_id, status: 'unsubscribed' as const }));
  }
  const all = current.find((s) => s.sender_id === ALL_SENDERS);
  const allIsLater = all !== undefined && later(all, order);
  return writes.filter((w) => {
    const row = current.find((s) => s.sender_id === w.sender_id);
    return !(row && later(row, order)) && !allIsLater;
  });
}

/**
 * SPEC §5.1: the state every send obeys: the rows applied so far, then the changes stored but
 * not yet applied by their runs (queued, or Temporal down), in arrival order. A STOP counts
 * from its acknowledgement, not from its run.
 */
export function effectiveStates(stored: StoredSubscription[], pending: { seq: number; change: SubscriptionChange }[]): SubscriptionState[] {
  let rows = stored.map((r) => ({ ...r }));
  for (const p of [...pending].sort((a, b) => a.seq - b.seq)) {
    for (const w of subscriptionWrites(p.change, rows, { seq: p.seq })) {
      rows = [...rows.filter((r) => r.sender_id !== w.sender_id), { ...w, changed_entry: p.seq }];
    }
  }
  return rows.map(({ sender_id, status }) => ({ sender_id, status }));
}
