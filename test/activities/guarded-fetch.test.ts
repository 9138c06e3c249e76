import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundFetch, readCapped, refusalOf } from '../../src/activities/guarded-fetch.js';
import { Receiver } from '../helpers/http.js';

let hooks: Receiver;
beforeAll(async () => {
  hooks = await new Receiver().start();
});
afterAll(async () => {
  await hooks?.close();
});

/** The error a request ends with, or a failure when it succeeds. */
async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the request to fail');
}

describe('createOutboundFetch', () => {
  it('refuses IP literals in refused ranges before connecting', async () => {
    const http = createOutboundFetch({ allowPrivateNetworks: false });
    for (const [url, message] of [
      [hooks.url('/literal'), 'refused: 127.0.0.1 is a loopback address'],
      [`http://[::1]:${hooks.port}/literal`, 'refused: ::1 is a loopback address'],
      ['http://169.254.169.254/latest/meta-data/', 'refused: 169.254.169.254 is a link-local address'],
      ['http://10.0.0.5/hook', 'refused: 10.0.0.5 is a private address'],
      [`http://[::ffff:127.0.0.1]:${hooks.port}/literal`, 'refused: ::ffff:7f00:1 is a loopback address'],
    ] as const) {
      expect(refusalOf(await failure(http(url, { method: 'POST', body: 'x' })))?.message).toBe(message);
    }
    expect(hooks.to('/literal')).toHaveLength(0);
  });

  it('refuses a name at connect time when DNS gives a refused address', async () => {
    const http = createOutboundFetch({ allowPrivateNetworks: false });
    const err = await failure(http(`http://localhost:${hooks.port}/by-name`, { method: 'GET' }));
    expect(refusalOf(err)?.message).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
    expect(hooks.to('/by-name')).toHaveLength(0);
  });

  it('leaves other failures alone', async () => {
    const http = createOutboundFetch({ allowPrivateNetworks: false });
    const err = await failure(http('http://no-such-host.invalid/x', { method: 'GET' }));
    expect(refusalOf(err)).toBeNull();
  });

  it('reaches private addresses when they are allowed', async () => {
    const http = createOutboundFetch({ allowPrivateNetworks: true });
    expect((await http(hooks.url('/allowed'), { method: 'POST', body: 'x' })).status).toBe(200);
    expect((await http(`http://localhost:${hooks.port}/allowed`, { method: 'GET' })).status).toBe(200);
    expect(hooks.to('/allowed')).toHaveLength(2);
  });
});

describe('readCapped', () => {
  it('reads at most the cap of an answer, and says whether that was all of it', async () => {
    const http = createOutboundFetch({ allowPrivateNetworks: true });
    hooks.script('/huge', [{ status: 200, body: 'x'.repeat(4 * 1024 * 1024) }]);
    hooks.script('/small', [{ status: 200, body: '{"access_token":"t"}' }]);
    const huge = await readCapped(await http(hooks.url('/huge'), { method: 'POST' }), 64 * 1024);
    expect(huge.complete).toBe(false);
    expect(huge.text).toHaveLength(64 * 1024);
    const small = await readCapped(await http(hooks.url('/small'), { method: 'POST' }), 64 * 1024);
    expect(small).toEqual({ text: '{"access_token":"t"}', complete: true });
  });
});
