import { createServer, type AddressInfo } from 'node:net';

/** A port free on 127.0.0.1 right now (another process may still take it before it is bound). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
