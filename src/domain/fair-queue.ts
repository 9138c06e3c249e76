/**
 * Where an item waits: its share (an account: shares are served in turn), its key (one
 * customer: a key's items leave in the order they came, one at a time, whatever their share)
 * and whether it is ordered (an ordered item leaves only after the ordered items of its share
 * queued before it, and one at a time: a backlog starts in arrival order within its account).
 */
export type Lane = { share: string; key: string; ordered: boolean };

type Entry<T> = { item: T; lane: Lane };

/**
 * A round-robin queue over shares (SPEC §5.2, "Fairness"): `take` serves the shares in turn,
 * each first-in first-out, so one account's burst waits behind itself, not in front of the
 * others. Keys keep their order across shares (a customer on a shared short code may text
 * several accounts' keywords and a standard one). Pure: the caller says when a taken item is done.
 */
export class FairQueue<T> {
  /** each share's items in the order queued; a Map iterates in insertion order: the turn */
  private shares = new Map<string, Entry<T>[]>();
  /** each key's queued items, in the order queued */
  private keys = new Map<string, Entry<T>[]>();
  private busyKeys = new Set<string>();
  /** shares with an ordered item taken and not done */
  private orderedBusy = new Set<string>();
  /** the share whose turn comes next */
  private next: string | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(item: T, lane: Lane): void {
    const entry = { item, lane };
    const share = this.shares.get(lane.share);
    if (share) share.push(entry);
    else this.shares.set(lane.share, [entry]);
    const key = this.keys.get(lane.key);
    if (key) key.push(entry);
    else this.keys.set(lane.key, [entry]);
    this.count++;
  }

  /**
   * The next item that may leave, taken off the queue, its key (and, ordered, its share's order)
   * held until `done`; null when every queued item waits for one taken before it.
   */
  take(): Entry<T> | null {
    const order = [...this.shares.keys()];
    if (order.length === 0) return null;
    const from = Math.max(0, this.next === null ? 0 : order.indexOf(this.next));
    for (let i = 0; i < order.length; i++) {
      const share = order[(from + i) % order.length]!;
      const entry = this.firstReady(share);
      if (!entry) continue;
      this.remove(entry);
      // The turn passes to the share after this one (which, emptied, may have left the rotation).
      const after = order.slice(from + i + 1).concat(order.slice(0, from + i + 1)).find((s) => this.shares.has(s) && s !== share);
      this.next = after ?? (this.shares.has(share) ? share : null);
      this.busyKeys.add(entry.lane.key);
      if (entry.lane.ordered) this.orderedBusy.add(entry.lane.share);
      return entry;
    }
    return null;
  }

  /** A taken item is done (started, refused or dropped): its key and share may go on. */
  done(lane: Lane): void {
    this.busyKeys.delete(lane.key);
    if (lane.ordered) this.orderedBusy.delete(lane.share);
  }

  /** Empties the queue, answering what was queued (taken items stay busy until `done`). */
  clear(): T[] {
    const all = [...this.shares.values()].flat().map((e) => e.item);
    this.shares.clear();
    this.keys.clear();
    this.next = null;
    this.count = 0;
    return all;
  }

  private firstReady(share: string): Entry<T> | null {
    let orderedWaits = this.orderedBusy.has(share);
    for (const entry of this.shares.get(share)!) {
      const { key, ordered } = entry.lane;
      const ready = this.keys.get(key)![0] === entry && !this.busyKeys.has(key) && !(ordered && orderedWaits);
      if (ready) return entry;
      // An ordered item that waits holds back the ordered ones behind it.
      orderedWaits ||= ordered;
    }
    return null;
  }

  private remove(entry: Entry<T>): void {
    const { share, key } = entry.lane;
    const items = this.shares.get(share)!;
    items.splice(items.indexOf(entry), 1);
    if (items.length === 0) this.shares.delete(share);
    const queued = this.keys.get(key)!;
    queued.shift();
    if (queued.length === 0) this.keys.delete(key);
    this.count--;
  }
}

/** A stored message waiting to start, as turns and a customer's order need it; `older`: its customer's newest older one waiting, never refused. */
export type InTurn = { id: string; attempts: number; seq: string; older: string | null };

/**
 * The rows in turn order with each customer's kept in their own: a customer whose messages
 * went to several accounts (a shared short code) has them handed in arrival order, in the
 * places their turns gave them, and one whose older message is neither in this batch nor
 * held by the starter waits for it (its account's turn has not come). As ever, a message
 * Temporal refused goes after its customer's fresh ones and holds no one back (`older` names
 * fresh ones only).
 */
export function inCustomerOrder<R extends InTurn>(rows: R[], customerKey: (r: R) => string, held: (id: string) => boolean): R[] {
  const seq = (r: R) => BigInt(r.seq);
  const ids = new Set(rows.map((r) => r.id));
  const ready = new Set<string>();
  for (const r of [...rows].sort((a, b) => (seq(a) < seq(b) ? -1 : 1))) {
    if (r.older === null || held(r.older) || (ids.has(r.older) && ready.has(r.older))) ready.add(r.id);
  }
  const kept = rows.filter((r) => ready.has(r.id));
  const byCustomer = new Map<string, R[]>();
  for (const r of kept) byCustomer.set(customerKey(r), [...(byCustomer.get(customerKey(r)) ?? []), r]);
  for (const mine of byCustomer.values()) mine.sort((a, b) => a.attempts - b.attempts || (seq(a) < seq(b) ? -1 : 1));
  const used = new Map<string, number>();
  return kept.map((r) => {
    const k = customerKey(r);
    const i = used.get(k) ?? 0;
    used.set(k, i + 1);
    return byCustomer.get(k)![i]!;
  });
}
