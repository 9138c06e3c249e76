import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/** A TCP proxy to PostgreSQL that can play "PostgreSQL is down": it cuts every connection and refuses new ones. */
export class PgProxy {
  private server: Server;
  private sockets = new Set<Socket>();
  down = false;
  port = 0;

  constructor(private readonly target: URL) {
    this.server = createServer((client) => {
      if (this.down) return client.destroy();
      const upstream = new Socket();
      upstream.connect(Number(target.port || 5432), target.hostname);
      for (const sock of [client, upstream]) {
        this.sockets.add(sock);
        sock.on('close', () => this.sockets.delete(sock));
        sock.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  stop(): void {
    this.down = true;
    for (const sock of this.sockets) sock.destroy();
  }

  resume(): void {
    this.down = false;
  }

  close(): Promise<void> {
    this.stop();
    return new Promise((r) => this.server.close(() => r()));
  }
}
