import { describe, expect, it } from 'vitest';
import { FairQueue, inCustomerOrder, type InTurn, type Lane } from '../../src/domain/fair-queue.js';

/** Takes everything, each item done at once: the order in which the queue lets items go. */
function order(q: FairQueue<string>): string[] {
  const out: string[] = [];
  for (let t = q.take(); t; t = q.take()) {
    out.push(t.item);
    q.done(t.lane);
  }
  return out;
}
const lane = (share: string, key: string, ordered = false): Lane => ({ share, key, ordered });

describe('FairQueue', () => {
  it('serves accounts in turn, each in the order queued', () => {
    const q = new FairQueue<string>();
    for (let i = 1; i <= 4; i++) q.push(`a${i}`, lane('A', `a-customer-${i}`));
    q.push('b1', lane('B', 'b-customer'));
    q.push('c1', lane('C', 'c-customer-1'));
    q.push('c2', lane('C', 'c-customer-2'));
    expect(order(q)).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3', 'a4']);
    expect(q.size).toBe(0);
  });

  it('lets a customer\'s items go one at a time, in the order queued, across accounts', () => {
    const q = new FairQueue<string>();
    // One customer on a shared short code: a standard keyword (no account) and two accounts' keywords.
    q.push('stop', lane('', 'c'));
    q.push('x-join', lane('X', 'c'));
    q.push('y-info', lane('Y', 'c'));
    q.push('y-other', lane('Y', 'd'));
    const first = q.take()!;
    expect(first.item).toBe('stop');
    // While `stop` is out, the customer's next waits; the others do not.
    expect(q.take()!.item).toBe('y-other');
    expect(q.take()).toBeNull();
    q.done(first.lane);
    expect(order(q)).toEqual(['x-join', 'y-info']);
  });

  it('lets an account\'s ordered items go one at a time, in order, beside other accounts\' items', () => {
    const q = new FairQueue<string>();
    q.push('a1', lane('A', 'k1', true));
    q.push('a2', lane('A', 'k2', true));
    q.push('b1', lane('B', 'k3', true));
    q.push('a3', lane('A', 'k4'));
    const a1 = q.take()!;
    const b1 = q.take()!;
    expect([a1.item, b1.item]).toEqual(['a1', 'b1']);
    // a2 waits for a1 (ordered, same account); a3, not ordered, goes.
    expect(q.take()!.item).toBe('a3');
    expect(q.take()).toBeNull();
    q.done(a1.lane);
    expect(q.take()!.item).toBe('a2');
  });

  it('gives back what is queued when cleared, and keeps taken items busy until done', () => {
    const q = new FairQueue<string>();
    q.push('a1', lane('A', 'k'));
    q.push('a2', lane('A', 'k'));
    q.push('b1', lane('B', 'j'));
    const a1 = q.take()!;
    expect(q.clear().sort()).toEqual(['a2', 'b1']);
    q.push('a3', lane('A', 'k'));
    expect(q.take()).toBeNull();
    q.done(a1.lane);
    expect(q.take()!.item).toBe('a3');
  });
});

describe('inCustomerOrder', () => {
  const row = (id: string, customer: string, seq: number, older: string | null, attempts = 0) => ({ id, customer, seq: String(seq), older, attempts });
  const run = (rows: (InTurn & { customer: string })[], held: string[] = []) =>
    inCustomerOrder(rows, (r) => r.customer, (id) => held.includes(id)).map((r) => r.id);

  it('keeps the turns, and a customer\'s messages in arrival order within them', () => {
    // Turn order: X's first, the shared number's first, X's second... The customer texted
    // STOP (no account, seq 1) and then X's keyword (seq 2): handed STOP first, in X's place.
    const rows = [row('x-join', 'c', 2, 'stop'), row('stop', 'c', 1, null), row('x-other', 'd', 3, null)];
    expect(run(rows)).toEqual(['stop', 'x-join', 'x-other']);
  });

  it('leaves a message whose customer\'s older one is neither in the batch nor held', () => {
    const rows = [row('x-join', 'c', 9, 'stop'), row('x-next', 'c', 10, 'x-join'), row('x-other', 'd', 11, null)];
    expect(run(rows)).toEqual(['x-other']);
    expect(run(rows, ['stop'])).toEqual(['x-join', 'x-next', 'x-other']);
  });

  it('puts a refused message after its customer\'s fresh ones', () => {
    const rows = [row('fresh', 'c', 5, null), row('refused', 'c', 4, null, 2)];
    expect(run(rows)).toEqual(['fresh', 'refused']);
  });
});
