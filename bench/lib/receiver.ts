// The webhook receiver every system delivers to: counts deliveries per MO id and keeps the
// arrival times, on the bench's clock (performance.now()), the same clock the load generator
// stamps its sends with. An MO that came over SMPP has an id the service made, unknown to the
// bench: every delivery is also filed under `message:<text>` (messageKey), which the SMPP
// scenario's texts make unique.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The receiver key of an MO known by its text: a delivery carrying `message` is filed under it too. */
export const messageKey = (text: string) => `message:${text}`;

export type Receiver = {
  url: string;
  /** a URL whose answers come `ms` late (the arrival is still stamped when the request is in) */
  slowUrl: (ms: number) => string;
  /** arrival times of every delivery, by MO id and by messageKey(text) */
  arrivals: Map<string, number[]>;
  /** deliveries whose body had no readable `id` */
  unreadable: number;
  /** total deliveries, and when the latest came: what "has anything arrived since?" reads */
  total: number;
  lastArrival: number;
  /** resolves with the first arrival under `id` (an MO id or a messageKey), or null after `timeoutMs` */
  waitFor: (id: string, timeoutMs: number) => Promise<number | null>;
  close: () => Promise<void>;
};

export async function startReceiver(): Promise<Receiver> {
  const waiters = new Map<string, (t: number) => void>();
  const r = { arrivals: new Map<string, number[]>(), unreadable: 0, total: 0, lastArrival: 0 } as Receiver;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      let body: { id?: unknown; message?: unknown } = {};
      try {
        // The service's default body, the relay's and the ceiling's MO JSON all carry `id` and `message`.
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (parsed && typeof parsed === 'object') body = parsed;
      } catch {
        /* unreadable */
      }
      if (typeof body.id === 'string') {
        const keys = typeof body.message === 'string' ? [body.id, messageKey(body.message)] : [body.id];
        for (const key of keys) {
          const list = r.arrivals.get(key);
          if (list) list.push(at);
          else r.arrivals.set(key, [at]);
          waiters.get(key)?.(at);
        }
        r.total++;
        r.lastArrival = at;
      } else {
        r.unreadable++;
      }
      // `/delay/<ms>/…` answers that much later: a slow endpoint (a CRM), not a fault (lib/tenants.ts).
      const delay = /^\/delay\/(\d{1,5})\//.exec(req.url ?? '');
      const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      if (delay) setTimeout(answer, Number(delay[1]));
      else answer();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mo`;
  r.slowUrl = (ms) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/delay/${ms}/mo`;
  r.waitFor = (id, timeoutMs) => {
    const first = r.arrivals.get(id)?.[0];
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters.delete(id);
        resolve(null);
      }, timeoutMs);
      waiters.set(id, (t) => {
        clearTimeout(timer);
        waiters.delete(id);
        resolve(t);
      });
    });
  };
  r.close = () =>
    new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    });
  return r;
}
