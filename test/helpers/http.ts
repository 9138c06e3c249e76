import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Received = { method: string; url: string; path: string; query: URLSearchParams; headers: IncomingHttpHeaders; body: string; at: number };
export type Reply = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number };

/**
 * A real HTTP server on 127.0.0.1 that records every request. Replies are scripted per path:
 * a list is consumed in order and its last entry repeats.
 */
export class Receiver {
  readonly requests: Received[] = [];
  private scripts = new Map<string, Reply[]>();
  private waiters: { pred: (r: Received[]) => boolean; resolve: () => void }[] = [];
  private server: Server;
  port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const received: Received = {
          method: req.method ?? '', url: req.url ?? '', path: url.pathname, query: url.searchParams,
          headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(),
        };
        this.requests.push(received);
        const script = this.scripts.get(url.pathname);
        const reply: Reply = script && script.length > 1 ? script.shift()! : (script?.[0] ?? { status: 200, body: 'ok' });
        const send = () => {
          res.writeHead(reply.status, reply.headers ?? { 'content-type': 'text/plain' });
          res.end(reply.body ?? '');
          this.waiters = this.waiters.filter((w) => (w.pred(this.requests) ? (w.resolve(), false) : true));
        };
        if (reply.delayMs) setTimeout(send, reply.delayMs);
        else send();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  script(path: string, replies: Reply[]): void {
    this.scripts.set(path, [...replies]);
  }

  to(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** Resolves once `count` requests to `path` have been answered, or fails after `timeoutMs`. */
  waitFor(path: string, count = 1, timeoutMs = 30_000): Promise<Received[]> {
    const pred = (all: Received[]) => all.filter((r) => r.path === path).length >= count;
    if (pred(this.requests)) return Promise.resolve(this.to(path));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${count} request(s) to ${path}, got ${this.to(path).length}`)), timeoutMs);
      this.waiters.push({ pred, resolve: () => { clearTimeout(timer); resolve(this.to(path)); } });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
