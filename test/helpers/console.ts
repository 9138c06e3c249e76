import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Account, Ctx } from './harness.js';

/** Debian's chromium (`.ci/run` installs it when missing), or CHROMIUM_PATH. */
export const chromiumPath = () => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A context's app over real HTTP on 127.0.0.1, as `npm start` serves it. */
export async function listen(ctx: Ctx): Promise<{ base: string; close: () => Promise<void> }> {
  const server = await new Promise<ReturnType<typeof serve>>((res) => {
    const srv = serve({ fetch: ctx.app.fetch, port: 0, hostname: '127.0.0.1' }, () => res(srv));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Signs `account` in through the sign-in form; the page is then on the numbers page. */
export async function signIn(page: Page, base: string, account: Pick<Account, 'sid' | 'apiKey'>): Promise<void> {
  await page.goto(`${base}/console/sign-in`);
  await page.getByLabel('Account sid').fill(account.sid);
  await page.getByLabel('API key').fill(account.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/console`);
}
