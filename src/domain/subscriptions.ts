/** '*' stands for every sender ID of the account, those registered later included. */
export const ALL_SENDERS = '*';

export type SubscriptionState = { sender_id: string; status: 'subscribed' | 'unsubscribed' };
/** A stored row: its state and the time of the message that last changed it. */
export type StoredSubscription = SubscriptionState & { changed_at: Date };

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
 * opted out of; unsubscribing names the senders, or '*' for all of them. A row last changed by
 * a message sent after this one (`at`) is left alone: runs may execute out of order, and a
 * customer's later STOP must not be undone by their earlier START (or by its retry).
 */
export function subscriptionWrites(change: SubscriptionChange, current: StoredSubscription[], at: Date): SubscriptionState[] {
  let writes: SubscriptionState[];
  if (change.kind === 'subscribe') {
    const senders = new Set([ALL_SENDERS, ...current.map((s) => s.sender_id)]);
    writes = [...senders].map((sender_id) => ({ sender_id, status: 'subscribed' as const }));
  } else if (change.scope === 'all') {
    writes = [{ sender_id: ALL_SENDERS, status: 'unsubscribed' }];
  } else {
    writes = [...new Set(change.senders)].map((sender_id) => ({ sender_id, status: 'unsubscribed' as const }));
  }
  const newer = new Set(current.filter((s) => s.changed_at.getTime() > at.getTime()).map((s) => s.sender_id));
  return writes.filter((w) => !newer.has(w.sender_id));
}
