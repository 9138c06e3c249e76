/**
 * `npm run screenshots [dir]`: every console page at desktop (1280×800) and phone (390×844)
 * width, as PNGs in `dir` (default /tmp/console-screens; never in the repository). It starts
 * the stack the browser tests use: a Temporal dev server (the `temporal` CLI), a schema of its
 * own in the machine's PostgreSQL (TEST_DATABASE_URL, default postgres@127.0.0.1:5432/test),
 * a worker and the app over HTTP; seeds an Indian account with a few configurations and
 * messages; and drives Debian's chromium (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Page } from 'playwright-core';
import { formatInZone } from '../src/domain/time.js';
import { launchChromium, listen, signIn } from '../test/helpers/console.js';
import { Harness } from '../test/helpers/harness.js';
import { Receiver } from '../test/helpers/http.js';
import { startTemporal } from '../test/helpers/temporal.js';

const dir = process.argv[2] ?? process.env.SCREENSHOTS_DIR ?? '/tmp/console-screens';
const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  await mkdir(dir, { recursive: true });
  const env = await startTemporal();
  const h = await Harness.create(env);
  const hooks = await new Receiver().start();
  hooks.script('/refuses', [{ status: 400, body: 'bad request' }]);
  const ctx = h.context();
  const server = await listen(ctx);
  const browser = await launchChromium();
  try {
    await ctx.withWorker(async () => {
      const a = await ctx.account({ country: 'IN', senders: ['ACMEIN', 'ACMEOT'] });
      const dlt = { route: 'TXN', template_id: '1107161234567890123' };
      const offer = await a.config({
        keyword: 'OFFER', aliases: ['DEAL'], expires_at: '2030-12-31 23:59:59',
        auto_reply: { sender: 'ACMEIN', message: 'Hi <source>, your offer code is SAVE10', ...dlt },
        trigger: { url: hooks.url('/mo') },
      });
      await a.config({ keyword: 'JOIN', template: 'JOIN <name> <city>', subscribe: true, forward: { email: { to: ['sales@example.com'] } } });
      await a.config({ keyword: 'NOMORE', unsubscribe: { scope: 'all' } });
      await a.config({ keyword: 'OLD', expires_at: '2020-01-01 00:00:00', expiry_message: 'Sorry, this offer has ended.', expiry_route: 'TXN', expiry_template_id: '1107161234567890124', auto_reply: { sender: 'ACMEIN', message: 'old', ...dlt } });
      await a.config({ keyword: 'LATER', auto_reply: { sender: 'ACMEIN', message: 'See you later', ...dlt, schedule: { type: 'scheduled', at: formatInZone(new Date(Date.now() + 86_400_000), 'UTC') } } });
      await a.config({ keyword: 'HOOK', trigger: { url: hooks.url('/refuses') } });
      await a.call('POST', '/callback/profiles', { title: 'CRM inbound', http_method: 'POST', url: 'https://crm.example.com/sms', body: '{"from":"<source>","text":"<message>"}', headers: { 'x-team': 'sales' } });
      const ids: Record<string, string> = {};
      for (const [i, text] of ['offer please', 'JOIN Priya Pune', 'nomore', 'later thanks', 'hook me', 'old offer', 'what is this'].entries()) {
        const res = await a.ctx.ingest({ id: `shot-${Date.now()}-${i}`, source: `+9198123456${String(70 + i)}`, recipient: a.number, message: text });
        ids[text.split(' ')[0]!] = res.body.id;
      }
      await ctx.starter.drain();
      await sleep(6000); // the runs finish (the webhook that refuses fails at once)

      const shoot = async (name: string, path: string, prepare?: (page: Page) => Promise<void>) => {
        for (const [size, viewport] of Object.entries(sizes)) {
          const context = await browser.newContext({ viewport });
          const page = await context.newPage();
          await signIn(page, server.base, a);
          await page.goto(`${server.base}${path}`);
          await prepare?.(page);
          await page.screenshot({ path: join(dir, `${name}-${size}.png`), fullPage: true });
          await context.close();
        }
      };
      for (const [size, viewport] of Object.entries(sizes)) {
        const context = await browser.newContext({ viewport });
        const page = await context.newPage();
        await page.goto(`${server.base}/console/sign-in`);
        await page.screenshot({ path: join(dir, `sign-in-${size}.png`), fullPage: true });
        await context.close();
      }
      const number = encodeURIComponent(a.number);
      await shoot('numbers', '/console');
      await shoot('number', `/console/numbers/${number}?dry_message=${encodeURIComponent('offer please')}&dry_source=%2B919812345678`);
      await shoot('config-new', `/console/configs/new?number=${number}`, async (page) => {
        await page.getByRole('switch', { name: 'Auto Reply' }).check();
        await page.getByRole('switch', { name: 'Forward' }).check();
      });
      await shoot('config-error', `/console/configs/new?number=${number}`, async (page) => {
        await page.getByLabel('Template / Keyword').fill('A'.repeat(31));
        await page.getByRole('switch', { name: 'Subscribe', exact: true }).check();
        await page.getByRole('button', { name: 'Save' }).click();
        await page.waitForLoadState();
      });
      await shoot('config-edit', `/console/configs/${offer.id}/edit`);
      await shoot('config-replay', `/console/configs/new?number=${number}`, async (page) => {
        await page.getByLabel('Template / Keyword').fill('WHAT');
        await page.getByRole('switch', { name: 'Subscribe', exact: true }).check();
        await page.getByLabel('Messages since (UTC)').fill(formatInZone(new Date(Date.now() - 86_400_000), 'UTC').replace(' ', 'T'));
        await page.getByRole('button', { name: 'Try on past messages' }).click();
        await page.waitForLoadState();
      });
      await shoot('logs', '/console/logs');
      await shoot('message', `/console/logs/${encodeURIComponent(ids.later!)}`);
      await shoot('message-webhook', `/console/logs/${encodeURIComponent(ids.offer!)}`);
      await shoot('subscriptions', '/console/subscriptions');
      await shoot('callback-profiles', '/console/callback-profiles');
      await shoot('deliveries', '/console/deliveries');
    });
    console.log(`screenshots in ${dir}`);
  } finally {
    await browser.close();
    await server.close();
    await hooks.close();
    await h.close();
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
