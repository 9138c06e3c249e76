/** '*' stands for every sender ID of the account, those registered later included. */
export const ALL_SENDERS = '*';

export type SubscriptionState = { sender_id: string; status: 'subscribed' | 'unsubscribed' };
/** When a change was made: the message's time, then its arrival order (`seq`) for ties. */
export type ChangeOrder = { at: Date; seq: number };

/** A stored row: its state and the order of the message that last changed it. */
export type StoredSubscription = SubscriptionState & { changed_at: Date; changed_seq: number };

const later = (row: StoredSubscription, than: ChangeOrder) =>
  row.changed_at.getTime() > than.at.getTime() || (row.changed_at.getTime() === than.at.getTime() && Number(row.changed_seq) > than.seq);

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
 * opted out of; unsubscribing names the senders, or '*' for all of them. A change older than
 * what a row already holds is left out: runs may execute out of order, and a customer's later
 * STOP must not be undone by their earlier START (or by its retry). A later change to '*'
 * (all senders) also outranks an older change to one sender.
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
