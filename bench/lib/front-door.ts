// The HTTP front door of the two reference systems (naive relay, Temporal ceiling): the
// service's POST /v1/inbound contract at its thinnest. Checks the ingest bearer token and
// parses the JSON as the service does, hands the MO on, answers 202. GET /stats answers the
// system's own counters. Listens on 127.0.0.1 only.
import { createServer, type Server } from 'node:http';
import type { Mo } from './load.js';

export async function serveInbound(opts: {
  port: number;
  token: string;
  /** resolves once the MO is handed on; the 202 waits for it */
  accept: (mo: Mo, raw: string) => Promise<void>;
  stats: () => unknown;
  log: (line: string) => void;
}): Promise<Server> {
  const server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method === 'GET' && req.url === '/stats') return answer(200, opts.stats());
    if (req.method !== 'POST' || req.url !== '/v1/inbound') return answer(404, { error: 'not_found' });
    if (req.headers.authorization !== `Bearer ${opts.token}`) return answer(401, { error: 'unauthorized' });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let mo: Mo;
      try {
        mo = JSON.parse(raw) as Mo;
        if (typeof mo.id !== 'string') throw new Error('no id');
      } catch {
        return answer(400, { error: 'bad_json' });
      }
      opts.accept(mo, raw).then(
        () => answer(202, { id: mo.id }),
        (e: unknown) => {
          opts.log(`${mo.id}: ${String(e)}`);
          answer(500, { error: String(e) });
        },
      );
    });
  });
  await new Promise<void>((ok) => server.listen(opts.port, '127.0.0.1', ok));
  return server;
}

/** A required environment variable of a bench child process. */
export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (this script is started by bench/run.ts)`);
  return v;
}
