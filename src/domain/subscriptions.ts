/** '*' stands for every sender ID of the account, those registered later included. */
export const ALL_SENDERS = '*';

export type SubscriptionState = { sender_id: string; status: 'subscribed' | 'unsubscribed' };

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
 * opted out of; unsubscribing names the senders, or '*' for all of them.
 */
export function subscriptionWrites(change: SubscriptionChange, current: SubscriptionState[]): SubscriptionState[] {
  if (change.kind === 'subscribe') {
    const senders = new Set([ALL_SENDERS, ...current.map((s) => s.sender_id)]);
    return [...senders].map((sender_id) => ({ sender_id, status: 'subscribed' as const }));
  }
  if (change.scope === 'all') return [{ sender_id: ALL_SENDERS, status: 'unsubscribed' }];
  return [...new Set(change.senders)].map((sender_id) => ({ sender_id, status: 'unsubscribed' as const }));
}
