import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, fetch, type RequestInit, type Response } from 'undici';
import { addressRefusal, urlHost } from '../domain/private-networks.js';

/** A request not sent because its address is private, local or reserved: a permanent failure. */
export class AddressRefusedError extends Error {
  readonly code = 'ERR_ADDRESS_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

/** The refusal behind a failed request (undici puts a connect error in `cause`), if that is why. */
export function refusalOf(e: unknown): AddressRefusedError | null {
  if (e instanceof AddressRefusedError) return e;
  const cause = (e as { cause?: unknown } | null)?.cause;
  return cause instanceof AddressRefusedError ? cause : null;
}

/**
 * The addresses are checked when the socket connects, after DNS, so a name that resolved to a
 * public address at save time and to 10.0.0.5 now (DNS rebinding) is still refused. A name
 * with any refused address is refused, rather than trying its other addresses.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    for (const a of addresses) {
      const why = addressRefusal(a.address);
      if (why) return callback(new AddressRefusedError(`refused: ${hostname} resolves to ${a.address}, ${why}`), '', 0);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};

export type OutboundFetch = (url: string, init: RequestInit) => Promise<Response>;

/**
 * The HTTP client of webhook and token requests: undici's fetch over an Agent of our own, so
 * the connect-time check cannot be bypassed by Node's global fetch or another dispatcher.
 * With `allowPrivateNetworks` (the local all-in-one stack, where a developer's webhook runs
 * on localhost) nothing is checked.
 */
export function createOutboundFetch(opts: { allowPrivateNetworks: boolean }): OutboundFetch {
  const dispatcher = opts.allowPrivateNetworks ? new Agent() : new Agent({ connect: { lookup: guardedLookup } });
  return async (url, init) => {
    if (!opts.allowPrivateNetworks) {
      // Node connects to an IP literal without a lookup, so the lookup above never sees it.
      const host = URL.canParse(url) ? urlHost(url) : '';
      const why = isIP(host) ? addressRefusal(host) : null;
      if (why) throw new AddressRefusedError(`refused: ${host} is ${why}`);
    }
    return fetch(url, { ...init, dispatcher });
  };
}

/**
 * At most `max` bytes of an answer, decoded; the rest is not read, however large it is.
 * `complete` says whether that was the whole of it.
 */
export async function readCapped(res: Response, max: number): Promise<{ text: string; complete: boolean }> {
  if (!res.body) return { text: '', complete: true };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    while (size <= max) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks).subarray(0, max)), complete: complete && size <= max };
}
