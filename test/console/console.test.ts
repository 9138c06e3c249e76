import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatInZone } from '../../src/domain/time.js';
import { launchChromium, listen, signIn } from '../helpers/console.js';
import type { Account, Ctx } from '../helpers/harness.js';
import { temporalSuite } from '../helpers/suite.js';

// The console in a real Chromium, against the real stack: PostgreSQL, a Temporal dev server,
// a worker, and the app served over HTTP.
const s = temporalSuite();
let browser: Browser;
let ctx: Ctx;
let server: { base: string; close: () => Promise<void> };
beforeAll(async () => {
  browser = await launchChromium();
  ctx = s.h.context();
  server = await listen(ctx);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const CUSTOMER = '+919812345678';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  return context.newPage();
}

/** Polls the API until `pred` holds for the message's log (runs take their time). */
async function waitForLog(a: Account, id: string, pred: (log: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await a.call('GET', `/logs/${encodeURIComponent(id)}`);
    if (res.status === 200 && pred(res.body)) return res.body;
    if (Date.now() > until) throw new Error(`log ${id}: ${JSON.stringify(res.body)}`);
    await sleep(200);
  }
}
const action = (log: any, type: string) => (log.actions as any[]).find((x) => x.type === type);

describe('console: signing in', () => {
  it('signs in with the sid and API key into a server-side session cookie, refuses a wrong key, and signs out', async () => {
    const a = await ctx.account();
    const page = await newPage();

    await page.goto(`${server.base}/console`);
    expect(page.url()).toBe(`${server.base}/console/sign-in`);
    await page.getByLabel('Account sid').fill(a.sid);
    await page.getByLabel('API key').fill(`${a.apiKey}x`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Unknown account sid or wrong API key');

    await signIn(page, server.base, a);
    await expect(page.getByRole('link', { name: a.number }).count()).resolves.toBe(1);

    const [cookie] = (await page.context().cookies()).filter((c) => c.name === 'console_session');
    expect(cookie).toBeDefined();
    expect(cookie!.httpOnly).toBe(true);
    expect(cookie!.sameSite).toBe('Lax');
    expect(cookie!.secure).toBe(false); // http here; https PUBLIC_URL: Secure (below)
    expect(cookie!.path).toBe('/console');
    expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 7 * 3600_000);
    expect(cookie!.expires * 1000).toBeLessThan(Date.now() + 9 * 3600_000);
    // The one inline script is allowed by its hash (the form tests below see it run); nothing else.
    const csp = (await page.request.get(`${server.base}/console`)).headers()['content-security-policy'];
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).toContain("frame-ancestors 'none'");
    // Stored as the hash of the session id only; the API key is nowhere in the table.
    const rows = await s.h.sql`SELECT * FROM console_sessions WHERE sid = ${a.sid}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).toBe(createHash('sha256').update(cookie!.value).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(cookie!.value);
    expect(JSON.stringify(rows)).not.toContain(a.apiKey);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${server.base}/console/sign-in`);
    await expect(s.h.sql`SELECT 1 FROM console_sessions WHERE sid = ${a.sid}`).resolves.toHaveLength(0);
    // The old cookie, sent again, is signed out too.
    const again = await fetch(`${server.base}/console`, { headers: { cookie: `console_session=${cookie!.value}` }, redirect: 'manual' });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/console/sign-in');
    await page.context().close();
  });

  it('sends an expired session back to sign in, and refuses a sign-in form posted from elsewhere', async () => {
    const a = await ctx.account();
    const page = await newPage();
    await signIn(page, server.base, a);
    await s.h.sql`UPDATE console_sessions SET expires_at = now() - interval '1 second' WHERE sid = ${a.sid}`;
    await page.goto(`${server.base}/console/logs`);
    expect(page.url()).toBe(`${server.base}/console/sign-in`);
    await page.context().close();

    // A cross-site form has neither the sign-in cookie nor its token.
    const forged = await fetch(`${server.base}/console/sign-in`, { method: 'POST', body: new URLSearchParams({ sid: a.sid, api_key: a.apiKey, _csrf: 'x' }), redirect: 'manual' });
    expect(forged.status).toBe(401);
    expect(forged.headers.getSetCookie().some((c) => c.startsWith('console_session='))).toBe(false);
  });

  it('marks the cookies Secure when PUBLIC_URL is https', async () => {
    const https = s.h.context({ PUBLIC_URL: 'https://console.example.com' });
    const a = await https.account();
    const form = await https.app.request('/console/sign-in');
    const csrfCookie = form.headers.getSetCookie().find((c) => c.startsWith('console_signin_csrf='))!;
    expect(csrfCookie).toMatch(/; Secure/);
    const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const res = await https.app.request('/console/sign-in', {
      method: 'POST', headers: { cookie: csrfCookie.split(';')[0]!, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, sid: a.sid, api_key: a.apiKey }).toString(),
    });
    expect(res.status).toBe(303);
    const session = res.headers.getSetCookie().find((c) => c.startsWith('console_session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; Secure/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(session).toMatch(/; Max-Age=28800/);
  });

  it('refuses a form posted without the session\'s CSRF token', async () => {
    const a = await ctx.account();
    const cfg = await a.config({ keyword: 'KEEP', subscribe: true });
    const page = await newPage();
    await signIn(page, server.base, a);
    const forged = await page.request.post(`${server.base}/console/configs/${cfg.id}/delete`, { form: { _csrf: 'forged' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    const none = await page.request.post(`${server.base}/console/configs/${cfg.id}/delete`, { form: {}, maxRedirects: 0 });
    expect(none.status()).toBe(403);
    await expect(a.call('GET', `/receive-configs/${cfg.id}`)).resolves.toMatchObject({ status: 200 });
    await page.context().close();
  });
});

describe('console: receive configurations', () => {
  it('creates a keyword configuration with auto reply and trigger through the form, and edits it', async () => {
    const a = await ctx.account({ senders: ['ACMEIN'] });
    const page = await newPage();
    const blocked: string[] = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
    await signIn(page, server.base, a);
    await page.getByRole('link', { name: a.number }).click();
    await page.getByRole('link', { name: '+ New Configuration' }).click();

    // Each action's fields show once its toggle is on.
    await expect(page.locator('#sec-auto-reply').isHidden()).resolves.toBe(true);
    await page.getByLabel('Template / Keyword').fill('offer');
    await page.getByRole('switch', { name: 'Auto Reply' }).check();
    await expect(page.locator('#sec-auto-reply').isVisible()).resolves.toBe(true);
    await page.getByLabel('Sender ID', { exact: true }).first().selectOption('ACMEIN');
    await page.getByLabel('Message Content').fill('Hi <source>, here is your offer');
    await page.getByRole('switch', { name: 'Trigger URL' }).check();
    await page.getByLabel('Trigger URL', { exact: true }).last().fill(s.hooks.url('/console-mo'));
    await page.getByRole('button', { name: 'Save' }).click();

    await page.waitForURL(/\/console\/numbers\/.+\?saved=1$/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('Configuration saved');
    const row = page.getByRole('row', { name: /OFFER/ });
    await expect(row.textContent()).resolves.toMatch(/Auto reply.*Trigger URL.*active/);

    const list = await a.call('GET', '/receive-configs');
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({
      keyword: 'OFFER', default: false,
      auto_reply: { sender: 'ACMEIN', message: 'Hi <source>, here is your offer', schedule: { type: 'instant' } },
      trigger: { url: s.hooks.url('/console-mo') },
    });

    await row.getByRole('link', { name: /Edit/ }).click();
    await expect(page.getByLabel('Template / Keyword').inputValue()).resolves.toBe('OFFER');
    await page.getByLabel('Message Content').fill('Hi <source>, offer changed');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\?saved=1$/);
    const after = await a.call('GET', `/receive-configs/${list.body.data[0].id}`);
    expect(after.body.auto_reply.message).toBe('Hi <source>, offer changed');
    expect(after.body.trigger.url).toBe(s.hooks.url('/console-mo'));
    expect(blocked).toEqual([]);
    await page.context().close();
  });

  it('shows the API\'s error beside the keyword field for a keyword over 30 characters, keeping what was typed', async () => {
    const a = await ctx.account();
    const page = await newPage();
    await signIn(page, server.base, a);
    await page.goto(`${server.base}/console/configs/new?number=${encodeURIComponent(a.number)}`);
    const long = 'A'.repeat(31);
    await page.getByLabel('Template / Keyword').fill(long);
    await page.getByRole('switch', { name: 'Subscribe', exact: true }).check();
    await page.getByRole('button', { name: 'Save' }).click();

    const keyword = page.getByLabel('Template / Keyword');
    await expect(keyword.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(keyword.inputValue()).resolves.toBe(long);
    const error = await page.locator('#f-keyword-error').textContent();
    expect(error).toMatch(/30/);
    await expect(keyword.getAttribute('aria-describedby')).resolves.toContain('f-keyword-error');
    await expect(a.call('GET', '/receive-configs')).resolves.toMatchObject({ body: { data: [] } });
    await page.context().close();
  });

  it('asks an Indian account for the route and DLT template id, and shows the API\'s error beside a missing one', async () => {
    const a = await ctx.account({ country: 'IN', senders: ['ACMEIN'] });
    const page = await newPage();
    await signIn(page, server.base, a);
    await page.goto(`${server.base}/console/configs/new?number=${encodeURIComponent(a.number)}`);
    // By keyboard: Space on the focused switch reveals the section.
    await page.getByRole('switch', { name: 'Auto Reply' }).focus();
    await page.keyboard.press('Space');
    await expect(page.locator('#sec-auto-reply').isVisible()).resolves.toBe(true);
    await page.getByLabel('Template / Keyword').fill('DLT');
    await page.getByLabel('Sender ID', { exact: true }).first().selectOption('ACMEIN');
    await page.getByLabel('Message Content').fill('Hi');
    await page.getByLabel('SMS Route', { exact: true }).first().selectOption('TXN');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('#f-auto_reply-template_id-error').textContent()).resolves.toMatch(/template_id.*India/);
    await expect(page.getByLabel('SMS Route', { exact: true }).first().inputValue()).resolves.toBe('TXN');

    await page.getByLabel('Template ID', { exact: true }).first().fill('1107161234567890123');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/\?saved=1$/);
    const [cfg] = (await a.call('GET', '/receive-configs')).body.data;
    expect(cfg.auto_reply).toMatchObject({ route: 'TXN', template_id: '1107161234567890123' });
    await page.context().close();

    // Elsewhere the route and template id are not asked for.
    const us = await ctx.account();
    const other = await newPage();
    await signIn(other, server.base, us);
    await other.goto(`${server.base}/console/configs/new?number=${encodeURIComponent(us.number)}`);
    await expect(other.getByLabel('SMS Route').count()).resolves.toBe(0);
    await expect(other.getByLabel('Template ID').count()).resolves.toBe(0);
    await other.context().close();
  });

  it('disables the keyword when Default is ticked, and Default on a shared short code', async () => {
    const a = await ctx.account();
    const shared = await ctx.account({ kind: 'short_code', shared: true });
    const page = await newPage();
    await signIn(page, server.base, a);
    await page.goto(`${server.base}/console/configs/new?number=${encodeURIComponent(a.number)}`);
    await expect(page.getByLabel('Template / Keyword').isEnabled()).resolves.toBe(true);
    await page.getByLabel('Default Configuration').check();
    await expect(page.getByLabel('Template / Keyword').isDisabled()).resolves.toBe(true);
    await page.getByLabel('Default Configuration').uncheck();
    await expect(page.getByLabel('Template / Keyword').isEnabled()).resolves.toBe(true);
    await page.context().close();

    const other = await newPage();
    await signIn(other, server.base, shared);
    await other.goto(`${server.base}/console/configs/new?number=${encodeURIComponent(shared.number)}`);
    await expect(other.getByLabel('Default Configuration').isDisabled()).resolves.toBe(true);
    await other.context().close();
  });

  it('asks before deleting a configuration, and deletes it once confirmed', async () => {
    const a = await ctx.account();
    const cfg = await a.config({ keyword: 'GONE', subscribe: true });
    const page = await newPage();
    await signIn(page, server.base, a);
    await page.goto(`${server.base}/console/numbers/${encodeURIComponent(a.number)}`);
    const asked: string[] = [];
    page.once('dialog', (d) => { asked.push(d.message()); void d.dismiss(); });
    await page.getByRole('button', { name: 'Delete GONE' }).click();
    expect(asked).toEqual(['Delete the keyword GONE?']);
    await expect(a.call('GET', `/receive-configs/${cfg.id}`)).resolves.toMatchObject({ status: 200 });

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete GONE' }).click();
    await page.waitForURL(/\?deleted=1$/);
    await expect(a.call('GET', `/receive-configs/${cfg.id}`)).resolves.toMatchObject({ status: 404 });
    await page.context().close();
  });

  it('dry-runs a message on the number page and on the configuration form', async () => {
    const a = await ctx.account({ senders: ['ACMEIN'] });
    const cfg = await a.config({ keyword: 'OFFER', auto_reply: { sender: 'ACMEIN', message: 'Hi <source>, offer noted' } });
    const page = await newPage();
    await signIn(page, server.base, a);
    await page.goto(`${server.base}/console/numbers/${encodeURIComponent(a.number)}`);
    await page.getByLabel('Message', { exact: true }).fill('offer please');
    await page.getByLabel('From (optional)').fill(CUSTOMER);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const result = page.locator('#dry-run-result');
    await expect(result.textContent()).resolves.toMatch(/Outcome: keyword.*Matched OFFER.*auto_reply: Hi \+919812345678, offer noted/s);

    await page.goto(`${server.base}/console/configs/${cfg.id}/edit`);
    await page.getByLabel('Message', { exact: true }).fill('nothing here');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await expect(page.locator('#dry-run-result').textContent()).resolves.toContain('Outcome: no_match');
    // Nothing was stored by either.
    await expect(a.call('GET', '/logs')).resolves.toMatchObject({ body: { data: [] } });
    await page.context().close();
  });

  it('tries the form\'s unsaved configuration on the number\'s past messages', async () => {
    const a = await ctx.account();
    for (const text of ['deal now', 'deal please', 'other']) expect((await a.send(text)).status).toBe(202);
    const page = await newPage();
    await signIn(page, server.base, a);
    await page.goto(`${server.base}/console/configs/new?number=${encodeURIComponent(a.number)}`);
    await page.getByLabel('Template / Keyword').fill('deal');
    await page.getByRole('switch', { name: 'Subscribe', exact: true }).check();
    const yesterday = formatInZone(new Date(Date.now() - 86_400_000), 'UTC').replace(' ', 'T');
    await page.getByLabel('Messages since (UTC)').fill(yesterday);
    await page.getByRole('button', { name: 'Try on past messages' }).click();
    await expect(page.locator('#replay-result').textContent()).resolves.toMatch(/2 of 3 messages since .* would be taken \(keyword\).*2 today go to nothing \(no match\)/s);
    // The form keeps what was typed, and nothing was saved.
    await expect(page.getByLabel('Template / Keyword').inputValue()).resolves.toBe('deal');
    await expect(a.call('GET', '/receive-configs')).resolves.toMatchObject({ body: { data: [] } });

    // The unsaved configuration's errors (config.keyword) sit beside their fields too.
    await page.getByLabel('Template / Keyword').fill('B'.repeat(31));
    await page.getByRole('button', { name: 'Try on past messages' }).click();
    await expect(page.locator('#f-keyword-error').textContent()).resolves.toMatch(/30/);
    await page.context().close();
  });
});

describe('console: logs, opt-outs, isolation', () => {
  it('shows an MO sent through the API in the logs as it arrives, with its actions, and its page with the webhook attempts and the run', async () => {
    await ctx.withWorker(async () => {
      const a = await ctx.account({ senders: ['ACMEIN'] });
      await a.config({ keyword: 'HELLO', auto_reply: { sender: 'ACMEIN', message: 'Hello back' }, trigger: { url: s.hooks.url('/console-logs') } });
      const page = await newPage();
      await signIn(page, server.base, a);
      await page.goto(`${server.base}/console/logs`);
      await expect(page.getByText('No messages match.').count()).resolves.toBe(1);

      const sent = await a.send('hello there');
      expect(sent.status).toBe(202);
      // The list refreshes itself: no reload here.
      const row = page.getByRole('row', { name: /hello there/ });
      await row.waitFor({ timeout: 20_000 });
      await page.getByRole('row', { name: /auto_reply: succeeded.*trigger: succeeded|trigger: succeeded.*auto_reply: succeeded/ }).waitFor({ timeout: 30_000 });
      await expect(row.textContent()).resolves.toContain('HELLO');

      await row.getByRole('link').click();
      await page.waitForURL(`${server.base}/console/logs/${encodeURIComponent(sent.body.id)}`);
      const actions = await page.locator('section.card table').textContent();
      expect(actions).toMatch(/auto_reply\s*succeeded\s*1/);
      expect(actions).toMatch(/trigger\s*succeeded\s*1/);
      await expect(page.getByRole('row', { name: new RegExp(s.hooks.url('/console-logs').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).textContent()).resolves.toContain('succeeded');
      await expect(page.getByRole('table', { name: /Attempts of POST/ }).textContent()).resolves.toMatch(/1\s*200\s*\d+ ms/);
      const link = page.getByRole('link', { name: 'Open the run in the Temporal UI' });
      await expect(link.getAttribute('href')).resolves.toContain(encodeURIComponent(sent.body.workflow_id));
      await page.context().close();
    });
  });

  it('filters the logs by keyword and date', async () => {
    const a = await ctx.account();
    await a.config({ keyword: 'ONE', subscribe: true });
    await a.config({ keyword: 'TWO', subscribe: true });
    await a.send('one a');
    await a.send('two b');
    const page = await newPage();
    await signIn(page, server.base, a);
    await page.goto(`${server.base}/console/logs?keyword=two`);
    await expect(page.getByRole('row', { name: /two b/ }).count()).resolves.toBe(1);
    await expect(page.getByRole('row', { name: /one a/ }).count()).resolves.toBe(0);
    const tomorrow = formatInZone(new Date(Date.now() + 86_400_000), 'UTC').replace(' ', 'T');
    await page.goto(`${server.base}/console/logs?since=${tomorrow}`);
    await expect(page.getByText('No messages match.').count()).resolves.toBe(1);
    await page.context().close();
  });

  it('cancels a scheduled reply from the message page', async () => {
    await ctx.withWorker(async () => {
      const a = await ctx.account({ senders: ['ACMEIN'] });
      const at = formatInZone(new Date(Date.now() + 86_400_000), 'UTC');
      await a.config({ keyword: 'LATER', auto_reply: { sender: 'ACMEIN', message: 'Later', schedule: { type: 'scheduled', at } } });
      const sent = await a.send('later please');
      await waitForLog(a, sent.body.id, (l) => action(l, 'auto_reply')?.status === 'scheduled');

      const page = await newPage();
      await signIn(page, server.base, a);
      await page.goto(`${server.base}/console/logs/${encodeURIComponent(sent.body.id)}`);
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Cancel scheduled reply' }).click();
      await page.waitForURL(/done=cancel/);
      await expect(page.getByRole('status').first().textContent()).resolves.toContain('cancelled');
      const log = await waitForLog(a, sent.body.id, (l) => action(l, 'auto_reply')?.status === 'cancelled');
      expect(action(log, 'auto_reply').status).toBe('cancelled');
      await page.reload();
      await expect(page.getByRole('button', { name: 'Cancel scheduled reply' }).count()).resolves.toBe(0);
      await page.context().close();
    });
  });

  it('reschedules a waiting reply from the message page', async () => {
    await ctx.withWorker(async () => {
      const a = await ctx.account({ senders: ['ACMEIN'] });
      await a.config({ keyword: 'MOVE', auto_reply: { sender: 'ACMEIN', message: 'Moved', schedule: { type: 'scheduled', at: formatInZone(new Date(Date.now() + 86_400_000), 'UTC') } } });
      const sent = await a.send('move it');
      await waitForLog(a, sent.body.id, (l) => action(l, 'auto_reply')?.status === 'scheduled');
      const page = await newPage();
      await signIn(page, server.base, a);
      await page.goto(`${server.base}/console/logs/${encodeURIComponent(sent.body.id)}`);
      const at = new Date(Date.now() + 2 * 86_400_000);
      await page.getByLabel('New time (UTC)').fill(formatInZone(at, 'UTC').replace(' ', 'T'));
      await page.getByRole('button', { name: 'Reschedule' }).click();
      await page.waitForURL(/done=reschedule/);
      const log = await waitForLog(a, sent.body.id, (l) => Math.abs(Date.parse(action(l, 'auto_reply')?.scheduled_at ?? '') - at.getTime()) < 1000);
      expect(action(log, 'auto_reply').status).toBe('scheduled');

      // A time in the past is the API's refusal, shown on the page.
      await page.getByLabel('New time (UTC)').fill('2020-01-01T00:00:00');
      await page.getByRole('button', { name: 'Reschedule' }).click();
      await page.waitForURL(/error=/);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('must be now or in the future');
      await page.context().close();
    });
  });

  it('lists failed webhook deliveries and replays one, then all since a time', async () => {
    await ctx.withWorker(async () => {
      s.hooks.script('/console-refuses', [{ status: 400, body: 'no' }, { status: 200, body: 'ok' }]);
      const a = await ctx.account();
      await a.config({ keyword: 'HOOK', trigger: { url: s.hooks.url('/console-refuses') } });
      const sent = await a.send('hook');
      await waitForLog(a, sent.body.id, (l) => action(l, 'trigger')?.status === 'failed');
      const page = await newPage();
      await signIn(page, server.base, a);
      await page.getByRole('link', { name: 'Failed deliveries' }).click();
      const row = page.getByRole('row', { name: new RegExp(sent.body.id) });
      await expect(row.textContent()).resolves.toMatch(/failed.*400/);
      await row.getByRole('button', { name: 'Replay' }).click();
      await page.waitForURL(/done=/);
      await expect(page.getByRole('status').textContent()).resolves.toContain('Delivery replayed');
      await s.hooks.waitFor('/console-refuses', 2);
      const until = Date.now() + 20_000;
      for (;;) {
        const d = await a.call('GET', `/deliveries?log_id=${encodeURIComponent(sent.body.id)}`);
        if (d.body.data[0]?.status === 'succeeded') break;
        if (Date.now() > until) throw new Error(JSON.stringify(d.body));
        await sleep(200);
      }
      await page.reload();
      await expect(page.getByRole('row', { name: new RegExp(sent.body.id) }).count()).resolves.toBe(0);

      // All since a time: the next failure, replayed with the form.
      s.hooks.script('/console-refuses', [{ status: 400, body: 'no' }, { status: 200, body: 'ok' }]);
      const second = await a.send('hook again');
      await waitForLog(a, second.body.id, (l) => action(l, 'trigger')?.status === 'failed');
      await page.reload();
      await page.getByLabel('Replay all failed since (UTC)').fill(formatInZone(new Date(Date.now() - 3600_000), 'UTC').replace(' ', 'T'));
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Replay all since' }).click();
      await page.waitForURL(/done=/);
      await expect(page.getByRole('status').textContent()).resolves.toContain('1 delivery replayed');
      await s.hooks.waitFor('/console-refuses', 4);

      // A link from elsewhere cannot put its own words in the console's alerts: only the
      // messages the console itself signed for this session are shown.
      const forged = new URL(page.url());
      forged.searchParams.set('done', 'Your API key was revoked. Sign in at https://evil.example/console');
      forged.searchParams.set('error', 'Sign in again at https://evil.example');
      await page.goto(forged.toString());
      await expect(page.content()).resolves.not.toContain('evil.example');
      await expect(page.getByRole('status').count()).resolves.toBe(0);
      // and the page is a standards-mode document
      await expect(page.evaluate('document.compatMode')).resolves.toBe('CSS1Compat');
      await page.context().close();
    });
  });

  it('creates a callback profile through the form, shows its signing secret once, and deletes it', async () => {
    const a = await ctx.account();
    const page = await newPage();
    await signIn(page, server.base, a);
    await page.getByRole('link', { name: 'Callback profiles' }).click();

    // The API's own error, beside its field; the password typed is not sent back.
    await page.getByLabel('Title').fill('x');
    await page.getByLabel('Endpoint URL').fill('https://crm.example.com/sms');
    await page.getByRole('radio', { name: 'Basic' }).check();
    await page.getByLabel('Username').fill('crm');
    await page.getByLabel('Password').fill('p4ssw0rd-secret');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await expect(page.locator('#f-title-error').textContent()).resolves.toContain('at least 3 characters');
    expect(await page.content()).not.toContain('p4ssw0rd-secret');

    await page.getByLabel('Title').fill('CRM inbound');
    await page.getByLabel('Password').fill('p4ssw0rd-secret');
    await page.getByLabel('Extra headers').fill('X-Team: sales');
    await page.getByRole('button', { name: 'Create profile' }).click();
    const secret = (await page.locator('pre code').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    const [made] = (await a.call('GET', '/callback/profiles')).body.data;
    expect(made).toMatchObject({ title: 'CRM inbound', http_method: 'POST', url: 'https://crm.example.com/sms', headers: { 'X-Team': 'sales' }, auth: { type: 'basic', username: 'crm' } });

    await page.goto(`${server.base}/console/callback-profiles`);
    await expect(page.getByRole('row', { name: /CRM inbound/ }).textContent()).resolves.toMatch(/POST.*https:\/\/crm\.example\.com\/sms.*basic.*active/);
    const html = await page.content();
    expect(html).not.toContain('p4ssw0rd-secret');
    expect(html).not.toContain(secret);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete CRM inbound' }).click();
    await page.waitForURL(/done=/);
    await expect(a.call('GET', `/callback/profiles/${made.id}`)).resolves.toMatchObject({ status: 404 });
    await page.context().close();
  });

  it('exports the opt-out list as CSV', async () => {
    await ctx.withWorker(async () => {
      const a = await ctx.account();
      await a.config({ keyword: 'NOMORE', unsubscribe: { scope: 'all' } });
      const sent = await a.send('nomore');
      await waitForLog(a, sent.body.id, (l) => action(l, 'unsubscribe')?.status === 'succeeded');

      const page = await newPage();
      await signIn(page, server.base, a);
      await page.getByRole('link', { name: 'Opt-in / opt-out' }).click();
      await page.getByLabel('Status').selectOption('unsubscribed');
      await page.getByRole('button', { name: 'Filter' }).click();
      await expect(page.getByRole('row', { name: new RegExp(`\\${CUSTOMER}.*all sender IDs.*unsubscribed`) }).count()).resolves.toBe(1);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
      expect(download.suggestedFilename()).toBe('subscriptions.csv');
      const csv = await readFile((await download.path())!, 'utf8');
      const lines = csv.trim().split(/\r?\n/);
      expect(lines[0]).toBe('number,sender_id,status,via_number,log_id,updated_at');
      expect(lines.slice(1)).toHaveLength(1);
      expect(lines[1]).toContain(`${CUSTOMER},*,unsubscribed,${a.number},${sent.body.id},`);

      // The customer's consent history (SPEC §5.1), from the ledger, and the ledger's export.
      await page.getByRole('link', { name: CUSTOMER }).click();
      await expect(page.getByRole('heading', { name: `Consent history of ${CUSTOMER}` }).count()).resolves.toBe(1);
      await expect(page.getByRole('row', { name: /unsubscribed.*all sender IDs.*customer's SMS \(NOMORE\).*HTTP gateway.*applied/ }).count()).resolves.toBe(1);
      await page.screenshot({ path: join(tmpdir(), 'console-consent-history.png'), fullPage: true });
      await page.goBack();
      const [ledger] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export consent ledger' }).click()]);
      expect(ledger.suggestedFilename()).toBe('consent-ledger.csv');
      const entries = (await readFile((await ledger.path())!, 'utf8')).trim().split(/\r?\n/);
      expect(entries[0]).toBe('id,number,direction,senders,cause,log_id,keyword,channel,via_number,status,reason,created_at,applied_at');
      expect(entries.slice(1)).toEqual([expect.stringContaining(`,${CUSTOMER},opt_out,*,mo,${sent.body.id},NOMORE,http,${a.number},applied,,`)]);
      await page.context().close();
    });
  });

  it('shows one account none of another\'s numbers, configurations or messages', async () => {
    const a = await ctx.account();
    const b = await ctx.account();
    const cfg = await a.config({ keyword: 'MINE', subscribe: true });
    const sent = await a.send('mine');
    const page = await newPage();
    await signIn(page, server.base, b);
    await expect(page.getByRole('link', { name: a.number }).count()).resolves.toBe(0);
    for (const path of [`/console/numbers/${encodeURIComponent(a.number)}`, `/console/configs/${cfg.id}/edit`, `/console/logs/${encodeURIComponent(sent.body.id)}`, '/console/no-such-page']) {
      const res = await page.goto(`${server.base}${path}`);
      expect(res!.status(), path).toBe(404);
    }
    await page.goto(`${server.base}/console/logs`);
    await expect(page.getByRole('row', { name: /mine/ }).count()).resolves.toBe(0);
    // B's own valid CSRF token does not reach A's configuration either.
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const del = await page.request.post(`${server.base}/console/configs/${cfg.id}/delete`, { form: { _csrf: csrf }, maxRedirects: 0 });
    expect(del.status()).toBe(404);
    await expect(a.call('GET', `/receive-configs/${cfg.id}`)).resolves.toMatchObject({ status: 200 });
    await page.context().close();
  });
});
