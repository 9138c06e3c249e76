import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';

/**
 * A body this large or larger is not read to keep its connection: the answer closes it. A few
 * times BODY_LIMIT_BYTES' default (an honest client that overshoots), and no more: an
 * unauthenticated client must not make the server read much for nothing.
 */
export const DRAIN_MAX_BYTES = 4 * 1024 * 1024;
/** Nor one that takes longer than this to arrive. */
export const DRAIN_MAX_MS = 3_000;

/**
 * An answer given before the body was read whole (a 413 on its Content-Length, a 401 before the
 * body, a 400 on a header) would otherwise leave the rest of the body in the connection, and
 * @hono/node-server then resets it under the client, whose next request on that pooled
 * connection fails (ECONNRESET) for no fault of its own. So the rest is read and dropped before
 * the answer goes, and the connection stays usable; a body over DRAIN_MAX_BYTES or slower than
 * DRAIN_MAX_MS is not waited for: its answer says `Connection: close`, so no client reuses it.
 * Outermost middleware: it sees every answer, errors included.
 */
export function settleUnreadBody(): MiddlewareHandler<{ Bindings: { incoming?: IncomingMessage } }> {
  return async (c, next) => {
    // The request as it came: a middleware may replace c.req.raw with one it has read (bodyLimit).
    const raw = c.req.raw;
    await next();
    const incoming = c.env?.incoming;
    if (!incoming || incoming.readableEnded || incoming.destroyed || !hasBody(incoming)) return;
    const declared = Number(incoming.headers['content-length'] ?? NaN);
    // Read through the request's own stream: @hono/node-server reads the socket into it.
    const body = raw.body;
    const drained = declared >= DRAIN_MAX_BYTES || !body || body.locked ? false : await drain(body, DRAIN_MAX_BYTES, DRAIN_MAX_MS);
    if (!drained) {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('connection', 'close');
    }
  };
}

function hasBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length'];
  return (length !== undefined && length !== '0') || incoming.headers['transfer-encoding'] !== undefined;
}

/** Reads and drops the rest of the body: true once it has ended within the bounds. */
async function drain(body: ReadableStream<Uint8Array>, maxBytes: number, maxMs: number): Promise<boolean> {
  const reader = body.getReader();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((res) => {
    timer = setTimeout(() => res('late'), maxMs);
  });
  let read = 0;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), late]);
      if (next === 'late') return false;
      if (next.done) return true;
      read += next.value.length;
      if (read > maxBytes) return false;
    }
  } catch {
    return false;
  } finally {
    // Not cancelled when cut short: cancelling destroys the socket before the answer is
    // written; the answer says Connection: close, and the server ends the socket after it.
    clearTimeout(timer);
  }
}
