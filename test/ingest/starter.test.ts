import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Sql } from '../../src/db/sql.js';
import { RunStarter, type IngestLoad } from '../../src/ingest/starter.js';

// The queue logic alone: a client that records when each start begins and ends. Real starts
// against Temporal are covered by the integration tests.
function recordingClient(delayMs: (id: string) => number, fail?: (id: string) => Error | null) {
  const events: string[] = [];
  const client = {
    withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
    workflow: {
      start: async (_type: string, opts: { workflowId: string }) => {
        events.push(`start ${opts.workflowId}`);
        await new Promise((r) => setTimeout(r, delayMs(opts.workflowId)));
        const err = fail?.(opts.workflowId);
        if (err) throw err;
        events.push(`done ${opts.workflowId}`);
        return {};
      },
    },
  };
  return { events, client: client as never };
}
const sql = (async () => []) as unknown as Sql;
const config = loadConfig({ DISPATCH_INTERVAL_MS: '60000' });
const msg = (id: string) => ({ id, sid: 'HX', recipient: '+15550000000', source: '+15551230000', keyword: 'K', outcome: 'keyword' });

describe('RunStarter', () => {
  it('starts one key\'s messages one after another, in order, and other keys alongside', async () => {
    const { events, client } = recordingClient((id) => (id === 'mo-a1' ? 60 : 5));
    const starter = new RunStarter({ sql, temporal: client, config });
    starter.enqueue(msg('a1'), 'A');
    starter.enqueue(msg('a2'), 'A');
    starter.enqueue(msg('b1'), 'B');
    expect(starter.holds('a2')).toBe(true);
    await starter.drain();
    expect(events.indexOf('start mo-a2')).toBeGreaterThan(events.indexOf('done mo-a1'));
    expect(events.indexOf('done mo-b1')).toBeLessThan(events.indexOf('done mo-a1'));
  });

  it('keeps a customer\'s order when the dispatcher\'s backlog and fresh messages meet', async () => {
    const { events, client } = recordingClient(() => 5);
    const starter = new RunStarter({ sql, temporal: client, config });
    // The backlog (ordered): A1 then B1; then B2 from ingest, behind B1 of the same customer.
    starter.enqueue(msg('A1'), 'A', true);
    starter.enqueue(msg('B1'), 'B', true);
    starter.enqueue(msg('B2'), 'B');
    await starter.drain();
    const started = events.filter((e) => e.startsWith('start')).map((e) => e.slice(9));
    expect(started).toEqual(['A1', 'B1', 'B2']);
  });

  it('holds starts back while ingest is saturated, and lets a few through once that lasts', async () => {
    const { events, client } = recordingClient(() => 1);
    let since = Date.now();
    const load = { saturation: () => ({ since, until: Date.now() + 60_000 }) } as unknown as IngestLoad;
    const starter = new RunStarter({ sql, temporal: client, config, load }, { sustainedAfterMs: 200 });
    for (const id of ['q1', 'q2', 'q3']) starter.enqueue(msg(id), id);
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toEqual([]); // a burst is being acknowledged: nothing starts
    since -= 1000; // saturated for over sustainedAfterMs now
    await starter.drain();
    expect(events.filter((e) => e.startsWith('start'))).toHaveLength(3);
  });

  it('still counts a message it started as its own after recording the start', async () => {
    // A concurrent INSERT whose snapshot predates the UPDATE still sees the message pending:
    // the customer's next message must not be left to the dispatcher behind it.
    const { client } = recordingClient(() => 1);
    const starter = new RunStarter({ sql, temporal: client, config });
    starter.enqueue(msg('s1'), 'S');
    await starter.drain();
    expect(starter.holds('s1')).toBe(true);
  });

  it('leaves everything to the dispatcher once Temporal is unreachable', async () => {
    const { events, client } = recordingClient(() => 5, () => new Error('14 UNAVAILABLE: No connection established'));
    const starter = new RunStarter({ sql, temporal: client, config }, { concurrency: 1 });
    starter.enqueue(msg('x1'), 'X');
    starter.enqueue(msg('x2'), 'Y');
    await starter.drain();
    expect(events).toEqual(['start mo-x1']); // x2 was dropped from the queue, not tried
    expect(starter.holds('x2')).toBe(false);
    expect(starter.enqueue(msg('x3'), 'Z')).toBe(false);
  });
});
