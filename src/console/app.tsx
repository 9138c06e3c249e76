/** @jsxImportSource hono/jsx */
import { createHmac, randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { sameSecret, type Account } from '../api/auth.js';
import type { AppDeps } from '../api/deps.js';
import { limitsOf } from '../api/limits.js';
import { configFromForm, formFromConfig, inputForField, toApiDateTime, toInputDateTime, type FormValues } from './config-form.js';
import { CONSOLE_CSP, Field, Layout, Select, Status, type Nav } from './layout.js';
import { ConsentHistory, type LedgerEntryView } from './pages/consent-history.js';
import { csrfToken, SESSION_COOKIE, SESSION_TTL_MS, sessionAccount, signIn, signOut } from './sessions.js';

/** The account's own API, called in-process as that account (app.ts gives it). */
export type AccountApi = (sid: string, method: string, path: string, body?: unknown) => Promise<{ status: number; body: any; text: string; headers: Headers }>;

type ConsoleEnv = { Variables: { account: Account; session: string; csrf: string; form: FormValues } };
type C = Context<ConsoleEnv>;
type ApiError = { code: string; message: string; field?: string };

const SIGNIN_CSRF = 'console_signin_csrf';
const q = (params: Record<string, string | undefined>) => {
  const s = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1])).toString();
  return s ? `?${s}` : '';
};
/**
 * A message for the page a redirect lands on (`?done=` / `?error=`), signed with the session's
 * CSRF secret: a link from elsewhere cannot put its own text in the console's alerts.
 */
const flashSig = (csrf: string, kind: string, text: string) => createHmac('sha256', csrf).update(`${kind}\n${text}`).digest('base64url').slice(0, 22);
const flashQ = (c: C, kind: 'done' | 'error', text: string) => q({ [kind]: text, [`${kind}_sig`]: flashSig(c.get('csrf'), kind, text) });
const readFlash = (c: C, kind: 'done' | 'error'): string | undefined => {
  const text = c.req.query(kind);
  const sig = c.req.query(`${kind}_sig`);
  return text && sig && sameSecret(sig, flashSig(c.get('csrf'), kind, text)) ? text : undefined;
};
const when = (v: string | null | undefined) => (v ? new Date(v).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '');

/**
 * The console (SPEC §10): server-rendered pages at /console that read and write only through the
 * signed-in account's own API, so what it shows and refuses is the API's.
 */
export function consoleRoutes(deps: AppDeps, api: AccountApi) {
  const { sql } = deps;
  const secure = deps.config.publicUrl?.startsWith('https:') ?? false;
  const app = new Hono<ConsoleEnv>();

  app.use('*', async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
    c.header('content-security-policy', CONSOLE_CSP);
    c.header('x-frame-options', 'DENY');
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
  });

  const formOf = async (c: C): Promise<FormValues> => {
    const raw = await c.req.parseBody({ all: true });
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]));
  };

  // ---- sign in / out -------------------------------------------------------------------------
  const signInPage = (c: C, error?: string, sid = '', status = error ? 401 : 200) => {
    // Double-submit token for the sign-in form (no session yet): a cookie and a field that match.
    const token = randomBytes(24).toString('base64url');
    setCookie(c, SIGNIN_CSRF, token, { httpOnly: true, sameSite: 'Strict', secure, path: '/console', maxAge: 3600 });
    return c.html(
      <Layout title="Sign in" nav={null}>
        <form method="post" action="/console/sign-in" class="card" style="max-width:30rem">
          <input type="hidden" name="_csrf" value={token} />
          {error && <p class="summary" role="alert">{error}</p>}
          <Field name="sid" label="Account sid" value={sid} required autocomplete="username" />
          <Field name="api_key" label="API key" type="password" required autocomplete="current-password" />
          <div class="actions"><button type="submit">Sign in</button></div>
        </form>
      </Layout>,
      status as 401,
    );
  };
  app.get('/sign-in', (c) => signInPage(c));
  app.post('/sign-in', async (c) => {
    const f = await formOf(c);
    const cookie = getCookie(c, SIGNIN_CSRF) ?? '';
    if (!cookie || !sameSecret(cookie, String(f._csrf ?? ''))) return signInPage(c, 'The form expired; please sign in again.');
    const sid = String(f.sid ?? '').trim();
    // SPEC §5.2: failed sign-ins are throttled per client address, before any query.
    const wait = limitsOf(c)?.signInBlocked(c) ?? null;
    if (wait !== null) {
      c.header('retry-after', String(wait));
      return signInPage(c, `Too many failed sign-ins from this address; try again in ${wait} seconds.`, sid, 429);
    }
    const result = await signIn(sql, sid, String(f.api_key ?? ''));
    if (result === 'disabled') return signInPage(c, 'This account is disabled. Ask your operator.', sid, 403);
    if (!result) {
      limitsOf(c)?.signInFailed(c);
      return signInPage(c, 'Unknown account sid or wrong API key.', sid);
    }
    const id = result.session;
    deleteCookie(c, SIGNIN_CSRF, { path: '/console' });
    setCookie(c, SESSION_COOKIE, id, { httpOnly: true, sameSite: 'Lax', secure, path: '/console', maxAge: SESSION_TTL_MS / 1000 });
    return c.redirect('/console', 303);
  });

  // Every other page: a live session; every POST: its CSRF token.
  app.use('*', async (c, next) => {
    const id = getCookie(c, SESSION_COOKIE);
    const account = await sessionAccount(sql, id);
    if (!account) return c.redirect('/console/sign-in', 303);
    if (!account.active) {
      return c.html(<Layout title="Account disabled" nav={null}><p class="summary" role="alert">This account is disabled. Ask your operator.</p></Layout>, 403);
    }
    c.set('account', account);
    c.set('session', id!);
    c.set('csrf', csrfToken(id!));
    if (c.req.method === 'POST') {
      const f = await formOf(c);
      if (!sameSecret(String(f._csrf ?? ''), c.get('csrf'))) return c.text('The form expired or did not come from this console; go back and reload it.', 403);
      c.set('form', f);
    }
    await next();
  });

  app.post('/sign-out', async (c) => {
    await signOut(sql, c.get('session'));
    deleteCookie(c, SESSION_COOKIE, { path: '/console' });
    return c.redirect('/console/sign-in', 303);
  });

  const nav = (c: C): Nav => ({ account: c.get('account'), csrf: c.get('csrf'), path: c.req.path });
  const call = (c: C, method: string, path: string, body?: unknown) => api(c.get('account').sid, method, path, body);
  const Csrf = (props: { c: C }) => <input type="hidden" name="_csrf" value={props.c.get('csrf')} />;
  const page = (c: C, title: string, body: unknown, status = 200) =>
    c.html(<Layout title={title} nav={nav(c)}>{body as never}</Layout>, status as 200);
  const notFound = (c: C, what: string) => page(c, 'Not found', <p>No {what} of this account has that id. <a href="/console">Back to the numbers</a></p>, 404);
  const failure = (c: C, res: { status: number; body: any }) =>
    page(c, 'Something went wrong', <p class="summary" role="alert">{res.body?.error?.message ?? `the API answered ${res.status}`}</p>, res.status >= 500 ? 502 : res.status);

  // ---- numbers and their configurations ------------------------------------------------------
  app.get('/', async (c) => {
    const [numbers, configs] = await Promise.all([call(c, 'GET', '/numbers'), call(c, 'GET', '/receive-configs?limit=500')]);
    const count = (n: string) => (configs.body.data as any[]).filter((x) => x.number === n).length;
    return page(c, 'Numbers', (
      <>
        <p class="muted">Signed in as {c.get('account').name} ({c.get('account').sid}).</p>
        <div class="table"><table class="stack">
          <thead><tr><th scope="col">Number</th><th scope="col">Kind</th><th scope="col">Configurations</th></tr></thead>
          <tbody>
            {(numbers.body.data as any[]).map((n) => (
              <tr>
                <td data-label="Number"><a href={`/console/numbers/${encodeURIComponent(n.number)}`}>{n.number}</a></td>
                <td data-label="Kind">{n.kind === 'short_code' ? (n.shared ? 'shared short code' : 'short code') : 'long code'}</td>
                <td data-label="Configurations">{count(n.number)}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
        {numbers.body.data.length === 0 && <p>No numbers are assigned to this account yet.</p>}
      </>
    ));
  });

  app.get('/numbers/:number', async (c) => {
    const number = c.req.param('number');
    const numbers = await call(c, 'GET', '/numbers');
    const n = (numbers.body.data as any[]).find((x) => x.number === number);
    if (!n) return notFound(c, 'number');
    const configs = await call(c, 'GET', `/receive-configs${q({ number, limit: '500' })}`);
    const dry = await dryRunFor(c, number);
    return page(c, `Number ${number}`, (
      <>
        {c.req.query('saved') && <p class="notice" role="status">Configuration saved.</p>}
        {c.req.query('deleted') && <p class="notice" role="status">Configuration deleted.</p>}
        <p class="muted">{n.kind === 'short_code' ? (n.shared ? 'Shared short code: no default configuration; a keyword belongs to one account.' : 'Short code') : 'Long code'}</p>
        <p><a class="button" href={`/console/configs/new${q({ number })}`}>+ New Configuration</a></p>
        <h2>Receive configurations</h2>
        <div class="table"><table class="stack">
          <thead><tr><th scope="col">Keyword</th><th scope="col">Aliases</th><th scope="col">Actions</th><th scope="col">Expiry</th><th scope="col">Active</th><th scope="col"><span class="sr-only">Change</span></th></tr></thead>
          <tbody>
            {(configs.body.data as any[]).map((cfg) => (
              <tr>
                <td data-label="Keyword">{cfg.default ? <em>Default</em> : cfg.keyword}{cfg.template && <div class="muted">{cfg.template}</div>}</td>
                <td data-label="Aliases">{cfg.aliases.join(', ') || '—'}</td>
                <td data-label="Actions">{actionsAtAGlance(cfg).map((a) => <span class="badge">{a}</span>)}</td>
                <td data-label="Expiry">{cfg.expires_at ?? '—'}</td>
                <td data-label="Active">{cfg.active ? <span class="badge ok">active</span> : <span class="badge bad">expired</span>}</td>
                <td>
                  <div class="actions" style="margin:0">
                    <a href={`/console/configs/${cfg.id}/edit`}>Edit<span class="sr-only"> {cfg.keyword ?? 'default'}</span></a>
                    <form method="post" action={`/console/configs/${cfg.id}/delete`} data-confirm={`Delete the ${cfg.default ? 'default configuration' : `keyword ${cfg.keyword}`}?`}>
                      <Csrf c={c} />
                      <button type="submit" class="secondary">Delete<span class="sr-only"> {cfg.keyword ?? 'default'}</span></button>
                    </form>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table></div>
        {configs.body.data.length === 0 && <p>No configurations on this number yet.</p>}
        <DryRunBox action={`/console/numbers/${encodeURIComponent(number)}`} dry={dry} />
      </>
    ));
  });

  // ---- New / Edit Configuration --------------------------------------------------------------
  const formPage = async (c: C, opts: { id: string | null; values: FormValues; error?: ApiError | null; status?: number; replay?: any }) => {
    const account = c.get('account');
    const [numbers, senders, profiles] = await Promise.all([
      call(c, 'GET', '/numbers'), call(c, 'GET', '/sender-ids'), call(c, 'GET', '/callback/profiles?limit=500'),
    ]);
    const dry = await dryRunFor(c, opts.values.number as string | undefined);
    return page(c, opts.id ? 'Edit Configuration' : 'New Configuration', (
      <>
        <ConfigForm
          id={opts.id} values={opts.values} error={opts.error ?? null} csrf={c.get('csrf')} india={account.country === 'IN'} timezone={account.timezone}
          numbers={numbers.body.data} senders={(senders.body.data as any[]).map((s) => s.sender_id)} profiles={profiles.body.data ?? []}
          replay={opts.replay ?? null}
        />
        <DryRunBox action={opts.id ? `/console/configs/${opts.id}/edit` : `/console/configs/new`} number={String(opts.values.number ?? '')} dry={dry} />
      </>
    ), opts.status ?? 200);
  };

  app.get('/configs/new', (c) => formPage(c, { id: null, values: { number: c.req.query('number') ?? '', 'auto_reply.schedule.type': 'instant', 'trigger.kind': 'url', 'forward.sms': 'on', 'unsubscribe.scope': 'configured' } }));
  app.get('/configs/:id/edit', async (c) => {
    const res = await call(c, 'GET', `/receive-configs/${encodeURIComponent(c.req.param('id'))}`);
    if (res.status === 404) return notFound(c, 'configuration');
    if (res.status !== 200) return failure(c, res);
    return formPage(c, { id: res.body.id, values: formFromConfig(res.body) });
  });
  const save = (id: string | null) => async (c: C) => {
    const f = c.get('form');
    const res = id
      ? await call(c, 'PUT', `/receive-configs/${encodeURIComponent(id)}`, configFromForm(f))
      : await call(c, 'POST', '/receive-configs', configFromForm(f));
    if (res.status === 404 && id) return notFound(c, 'configuration');
    if (res.status >= 400) return formPage(c, { id, values: f, error: res.body?.error ?? { code: 'error', message: `the API answered ${res.status}` }, status: res.status >= 500 ? 502 : 422 });
    return c.redirect(`/console/numbers/${encodeURIComponent(res.body.number)}?saved=1`, 303);
  };
  // The form's unsaved configuration replayed over the number's messages since a time (the API's
  // dry run with {config, since}); its errors name config.<field>, shown beside the field.
  app.post('/configs/replay', async (c) => {
    const f = c.get('form');
    const id = typeof f.id === 'string' && f.id ? f.id : null;
    const res = await call(c, 'POST', '/receive-configs/dry-run', { config: configFromForm(f), since: toApiDateTime(String(f.dry_since ?? '')) });
    if (res.status !== 200) {
      const e: ApiError = res.body?.error ?? { code: 'error', message: `the API answered ${res.status}` };
      const field = e.field?.startsWith('config.') ? e.field.slice('config.'.length) : e.field === 'since' ? 'dry_since' : e.field;
      return formPage(c, { id, values: f, error: { ...e, ...(field ? { field } : {}) }, status: res.status >= 500 ? 502 : 422 });
    }
    return formPage(c, { id, values: f, replay: res.body });
  });
  app.post('/configs', save(null));
  app.post('/configs/:id', (c) => save(c.req.param('id'))(c));
  app.post('/configs/:id/delete', async (c) => {
    const id = encodeURIComponent(c.req.param('id'));
    const found = await call(c, 'GET', `/receive-configs/${id}`);
    if (found.status !== 200) return notFound(c, 'configuration');
    const res = await call(c, 'DELETE', `/receive-configs/${id}`);
    if (res.status !== 204) return failure(c, res);
    return c.redirect(`/console/numbers/${encodeURIComponent(found.body.number)}?deleted=1`, 303);
  });

  // ---- dry run (a GET form: it changes nothing) ----------------------------------------------
  async function dryRunFor(c: C, fallbackNumber: string | undefined) {
    const message = c.req.query('dry_message');
    if (message === undefined) return null;
    const number = c.req.query('dry_number') || fallbackNumber || '';
    const source = c.req.query('dry_source')?.trim();
    const res = await call(c, 'POST', '/receive-configs/dry-run', { number, message, ...(source ? { source } : {}) });
    return { message, source: source ?? '', res };
  }

  // ---- message logs --------------------------------------------------------------------------
  app.get('/logs', async (c) => {
    const filters = {
      number: c.req.query('number') || undefined, keyword: c.req.query('keyword')?.trim() || undefined,
      outcome: c.req.query('outcome') || undefined,
      since: c.req.query('since') ? toApiDateTime(c.req.query('since')!) : undefined,
      until: c.req.query('until') ? toApiDateTime(c.req.query('until')!) : undefined,
    };
    const [numbers, logs] = await Promise.all([call(c, 'GET', '/numbers'), call(c, 'GET', `/logs${q({ ...filters, limit: '100' })}`)]);
    const error: ApiError | null = logs.status >= 400 ? logs.body?.error : null;
    return page(c, 'Message logs', (
      <>
        <form method="get" action="/console/logs" class="card">
          <div class="row">
            <Select name="number" label="Number" value={filters.number} blank="Any" options={(numbers.body.data as any[]).map((n) => ({ value: n.number, label: n.number }))} />
            <Field name="keyword" label="Keyword" value={filters.keyword} error={error?.field === 'keyword' ? error.message : null} />
            <Select name="outcome" label="Outcome" value={filters.outcome} blank="Any" options={['keyword', 'expired', 'default', 'standard', 'no_match'].map((o) => ({ value: o, label: o }))} />
            <Field name="since" label="Since" type="datetime-local" step={1} value={toInputDateTime(filters.since)} error={error?.field === 'since' ? error.message : null} />
            <Field name="until" label="Until" type="datetime-local" step={1} value={toInputDateTime(filters.until)} error={error?.field === 'until' ? error.message : null} />
          </div>
          <div class="actions"><button type="submit">Filter</button><a href="/console/logs">Clear</a></div>
          <p class="muted">Times on the account's clock ({c.get('account').timezone}). The list refreshes itself every 5 seconds.</p>
        </form>
        <div data-refresh="5">
          <div class="table"><table class="stack">
            <thead><tr><th scope="col">Received</th><th scope="col">Message</th><th scope="col">From → to</th><th scope="col">Keyword</th><th scope="col">Outcome</th><th scope="col">Actions</th></tr></thead>
            <tbody>
              {((logs.body?.data ?? []) as any[]).map((l) => (
                <tr>
                  <td data-label="Received"><a href={`/console/logs/${encodeURIComponent(l.id)}`}>{when(l.received_at)}</a></td>
                  <td data-label="Message">{l.message}</td>
                  <td data-label="From → to">{l.source} → {l.recipient}</td>
                  <td data-label="Keyword">{l.keyword ?? '—'}</td>
                  <td data-label="Outcome"><Status status={l.outcome} /></td>
                  <td data-label="Actions">{(l.actions as any[]).map((a) => <span class={`badge ${badgeClass(a.status)}`}>{a.type}: {a.status}</span>)}</td>
                </tr>
              ))}
            </tbody>
          </table></div>
          {(logs.body?.data ?? []).length === 0 && <p>No messages match.</p>}
        </div>
      </>
    ));
  });

  app.get('/logs/:id', async (c) => {
    const id = c.req.param('id');
    const log = await call(c, 'GET', `/logs/${encodeURIComponent(id)}`);
    if (log.status === 404) return notFound(c, 'message');
    if (log.status !== 200) return failure(c, log);
    const deliveries = await call(c, 'GET', `/deliveries${q({ log_id: id, limit: '100' })}`);
    // each delivery's attempts (a message has one webhook; a few at most)
    const details = await Promise.all(((deliveries.body?.data ?? []) as any[]).slice(0, 10).map((d) => call(c, 'GET', `/deliveries/${encodeURIComponent(d.id)}`)));
    const l = log.body;
    const reply = (l.actions as any[]).find((a) => a.type === 'auto_reply');
    const flash = readFlash(c, 'done');
    const error = readFlash(c, 'error');
    return page(c, 'Message', (
      <>
        {flash && <p class="notice" role="status">{flash === 'cancel' ? 'The scheduled reply was cancelled.' : 'The reply was rescheduled.'}</p>}
        {error && <p class="summary" role="alert">{error}</p>}
        <section class="card" data-refresh="5">
          <dl>
            <dt>Id</dt><dd>{l.id}</dd>
            <dt>Received</dt><dd>{when(l.received_at)}</dd>
            <dt>From</dt><dd>{l.source}</dd>
            <dt>To</dt><dd>{l.recipient}</dd>
            <dt>Message</dt><dd>{l.message}</dd>
            <dt>Keyword</dt><dd>{l.keyword ?? '—'}</dd>
            <dt>Outcome</dt><dd><Status status={l.outcome} /></dd>
            <dt>Run</dt><dd>{l.run_status ? <Status status={l.run_status} /> : '—'} {l.temporal_ui_url && <a href={l.temporal_ui_url} target="_blank" rel="noopener noreferrer">Open the run in the Temporal UI</a>}</dd>
          </dl>
          <h2>Actions</h2>
          <div class="table"><table class="stack">
            <thead><tr><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
            <tbody>
              {(l.actions as any[]).map((a) => (
                <tr><td data-label="Action">{a.type}{a.scheduled_at && <div class="muted">at {when(a.scheduled_at)}</div>}</td><td data-label="Status"><Status status={a.status} /></td><td data-label="Attempts">{a.attempts}</td><td data-label="Last error">{a.last_error ?? '—'}</td></tr>
              ))}
            </tbody>
          </table></div>
          {l.actions.length === 0 && <p>No actions.</p>}
        </section>
        {reply?.status === 'scheduled' && (
          <section class="card">
            <h2>Scheduled reply</h2>
            <form method="post" action={`/console/logs/${encodeURIComponent(l.id)}/scheduled-reply`} data-confirm="Cancel the scheduled reply?">
              <Csrf c={c} /><input type="hidden" name="action" value="cancel" />
              <button type="submit" class="danger">Cancel scheduled reply</button>
            </form>
            <form method="post" action={`/console/logs/${encodeURIComponent(l.id)}/scheduled-reply`}>
              <Csrf c={c} /><input type="hidden" name="action" value="reschedule" />
              <Field name="at" label={`New time (${c.get('account').timezone})`} type="datetime-local" step={1} required />
              <div class="actions"><button type="submit">Reschedule</button></div>
            </form>
          </section>
        )}
        <h2>Webhook attempts</h2>
        <DeliveriesTable rows={deliveries.body?.data ?? []} />
        {details.filter((d) => d.status === 200 && d.body.attempt_history.length > 0).map((d) => (
          <div class="table"><table class="stack">
            <caption style="text-align:left;font-weight:600;padding:.25rem 0">Attempts of {d.body.method} {d.body.url}</caption>
            <thead><tr><th scope="col">Attempt</th><th scope="col">Answer</th><th scope="col">Took</th><th scope="col">Error</th><th scope="col">At</th></tr></thead>
            <tbody>
              {(d.body.attempt_history as any[]).map((t) => (
                <tr>
                  <td data-label="Attempt">{t.attempt}{t.round ? ` (replay ${t.round})` : ''}</td>
                  <td data-label="Answer">{t.status_code ?? '—'}</td>
                  <td data-label="Took">{t.latency_ms} ms</td>
                  <td data-label="Error">{t.error ?? '—'}</td>
                  <td data-label="At">{when(t.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table></div>
        ))}
      </>
    ));
  });

  app.post('/logs/:id/scheduled-reply', async (c) => {
    const id = c.req.param('id');
    const f = c.get('form');
    const body = f.action === 'reschedule' ? { action: 'reschedule', at: toApiDateTime(String(f.at ?? '')) } : { action: 'cancel' };
    const res = await call(c, 'POST', `/logs/${encodeURIComponent(id)}/scheduled-reply`, body);
    if (res.status === 404) return notFound(c, 'message');
    const back = `/console/logs/${encodeURIComponent(id)}`;
    if (res.status !== 202) return c.redirect(`${back}${flashQ(c, 'error', res.body?.error?.message ?? `the API answered ${res.status}`)}`, 303);
    return c.redirect(`${back}${flashQ(c, 'done', body.action)}`, 303);
  });

  // ---- opt-in / opt-out ----------------------------------------------------------------------
  const subscriptionFilters = (c: C) => ({ number: c.req.query('number')?.trim() || undefined, status: c.req.query('status') || undefined });
  app.get('/subscriptions', async (c) => {
    const filters = subscriptionFilters(c);
    const res = await call(c, 'GET', `/subscriptions${q({ ...filters, limit: '500' })}`);
    const error: ApiError | null = res.status >= 400 ? res.body?.error : null;
    return page(c, 'Opt-in / opt-out list', (
      <>
        <form method="get" action="/console/subscriptions" class="card">
          <div class="row">
            <Field name="number" label="Customer number" value={filters.number} error={error?.field === 'number' ? error.message : null} />
            <Select name="status" label="Status" value={filters.status} blank="Any" options={[{ value: 'subscribed', label: 'opted in' }, { value: 'unsubscribed', label: 'opted out' }]} />
          </div>
          <div class="actions">
            <button type="submit">Filter</button>
            <a class="button secondary" href={`/console/subscriptions.csv${q(filters)}`} download>Export CSV</a>
            <a class="button secondary" href="/console/consent-ledger.csv" download>Export consent ledger</a>
          </div>
        </form>
        <div class="table"><table class="stack">
          <thead><tr><th scope="col">Customer</th><th scope="col">Sender ID</th><th scope="col">Status</th><th scope="col">Via number</th><th scope="col">Changed</th></tr></thead>
          <tbody>
            {((res.body?.data ?? []) as any[]).map((s) => (
              <tr>
                <td data-label="Customer"><a href={`/console/subscriptions/${encodeURIComponent(s.number)}/history`} title="consent history">{s.number}</a></td><td data-label="Sender ID">{s.sender_id === '*' ? 'all sender IDs' : s.sender_id}</td><td data-label="Status"><Status status={s.status} /></td>
                <td data-label="Via number">{s.via_number ?? '—'}</td>
                <td data-label="Changed">{s.log_id ? <a href={`/console/logs/${encodeURIComponent(s.log_id)}`}>{when(s.updated_at)}</a> : when(s.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
        {(res.body?.data ?? []).length === 0 && <p>No customers match.</p>}
      </>
    ));
  });
  // SPEC §5.1: one customer's history, and the account's ledger, from the consent ledger.
  app.get('/subscriptions/:number/history', async (c) => {
    const number = c.req.param('number');
    const res = await call(c, 'GET', `/subscriptions/${encodeURIComponent(number)}/history?limit=500`);
    if (res.status !== 200) return failure(c, res);
    return page(c, `Consent history of ${number}`, <ConsentHistory number={number} entries={res.body.data as LedgerEntryView[]} />);
  });
  app.get('/consent-ledger.csv', async (c) => {
    const res = await call(c, 'GET', '/subscriptions/ledger?format=csv&limit=100000');
    if (res.status !== 200) return failure(c, res);
    c.header('content-type', 'text/csv; charset=utf-8');
    c.header('content-disposition', 'attachment; filename="consent-ledger.csv"');
    return c.body(res.text);
  });
  app.get('/subscriptions.csv', async (c) => {
    const res = await call(c, 'GET', `/subscriptions${q({ ...subscriptionFilters(c), format: 'csv', limit: '100000' })}`);
    if (res.status !== 200) return failure(c, res);
    c.header('content-type', 'text/csv; charset=utf-8');
    c.header('content-disposition', 'attachment; filename="subscriptions.csv"');
    return c.body(res.text);
  });

  // ---- callback profiles ---------------------------------------------------------------------
  const profilesPage = async (c: C, opts: { values?: FormValues; error?: ApiError | null; created?: { title: string; signing_secret: string } | null; status?: number } = {}) => {
    const res = await call(c, 'GET', '/callback/profiles?limit=500');
    const flash = readFlash(c, 'done');
    return page(c, 'Callback profiles', (
      <>
        {flash && <p class="notice" role="status">{flash}</p>}
        {opts.created && (
          <div class="notice" role="status">
            <p style="margin-top:0">Profile <strong>{opts.created.title}</strong> created. Its signing secret, shown this once (every delivery is signed with it, Standard Webhooks):</p>
            <pre><code>{opts.created.signing_secret}</code></pre>
          </div>
        )}
        <div class="table"><table class="stack">
          <thead><tr><th scope="col">Title</th><th scope="col">Method</th><th scope="col">URL</th><th scope="col">Authentication</th><th scope="col">Status</th><th scope="col">Id</th><th scope="col"><span class="sr-only">Delete</span></th></tr></thead>
          <tbody>
            {((res.body?.data ?? []) as any[]).map((p) => (
              <tr>
                <td data-label="Title">{p.title}</td><td data-label="Method">{p.http_method}</td><td data-label="URL">{p.url}</td>
                <td data-label="Authentication">{p.auth?.type ?? 'none'}</td>
                <td data-label="Status"><Status status={p.status} />{p.disabled_reason && <div class="muted">{p.disabled_reason}</div>}</td>
                <td data-label="Id"><code>{p.id}</code></td>
                <td>
                  <form method="post" action={`/console/callback-profiles/${encodeURIComponent(p.id)}/delete`} data-confirm={`Delete the callback profile ${p.title}?`}>
                    <Csrf c={c} /><button type="submit" class="secondary">Delete<span class="sr-only"> {p.title}</span></button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table></div>
        {(res.body?.data ?? []).length === 0 && <p>No callback profiles yet.</p>}
        <ProfileForm csrf={c.get('csrf')} values={opts.values ?? { http_method: 'POST', auth: 'none' }} error={opts.error ?? null} />
        <p class="muted">Advanced (OAuth client credentials) authentication, field encryption and changes to a profile are made through the API (<code>/v1/{c.get('account').sid}/callback/profiles</code>). Secrets are never shown again.</p>
      </>
    ), opts.status ?? 200);
  };
  app.get('/callback-profiles', (c) => profilesPage(c));
  app.post('/callback-profiles', async (c) => {
    const f = c.get('form');
    const parsed = profileFromForm(f);
    if ('error' in parsed) return profilesPage(c, { values: f, error: parsed.error, status: 422 });
    const res = await call(c, 'POST', '/callback/profiles', parsed.body);
    if (res.status !== 201) return profilesPage(c, { values: f, error: res.body?.error ?? { code: 'error', message: `the API answered ${res.status}` }, status: res.status >= 500 ? 502 : 422 });
    return profilesPage(c, { created: { title: res.body.title, signing_secret: res.body.signing_secret }, status: 201 });
  });
  app.post('/callback-profiles/:id/delete', async (c) => {
    const res = await call(c, 'DELETE', `/callback/profiles/${encodeURIComponent(c.req.param('id'))}`);
    if (res.status === 404) return notFound(c, 'callback profile');
    if (res.status >= 400) return failure(c, res);
    return c.redirect(`/console/callback-profiles${flashQ(c, 'done', 'Callback profile deleted.')}`, 303);
  });

  // ---- failed deliveries and replay ----------------------------------------------------------
  app.get('/deliveries', async (c) => {
    const res = await call(c, 'GET', '/deliveries?status=failed&limit=200');
    const flash = readFlash(c, 'done');
    const error = readFlash(c, 'error');
    return page(c, 'Failed webhook deliveries', (
      <>
        {flash && <p class="notice" role="status">{flash}</p>}
        {error && <p class="summary" role="alert">{error}</p>}
        <form method="post" action="/console/deliveries/replay" class="card" data-confirm="Deliver again every failed webhook since this time?">
          <Csrf c={c} />
          <Field name="since" label={`Replay all failed since (${c.get('account').timezone})`} type="datetime-local" step={1} required />
          <div class="actions"><button type="submit">Replay all since</button></div>
        </form>
        <DeliveriesTable rows={res.body?.data ?? []} replay={c.get('csrf')} />
      </>
    ));
  });
  app.post('/deliveries/replay', async (c) => {
    const res = await call(c, 'POST', '/deliveries/replay', { since: toApiDateTime(String(c.get('form').since ?? '')) });
    if (res.status !== 202) return c.redirect(`/console/deliveries${flashQ(c, 'error', res.body?.error?.message ?? `the API answered ${res.status}`)}`, 303);
    return c.redirect(`/console/deliveries${flashQ(c, 'done', `${res.body.replayed?.length ?? 0} ${res.body.replayed?.length === 1 ? 'delivery' : 'deliveries'} replayed.`)}`, 303);
  });
  app.post('/deliveries/:id/replay', async (c) => {
    const res = await call(c, 'POST', `/deliveries/${encodeURIComponent(c.req.param('id'))}/replay`);
    if (res.status !== 202) return c.redirect(`/console/deliveries${flashQ(c, 'error', res.body?.error?.message ?? `the API answered ${res.status}`)}`, 303);
    return c.redirect(`/console/deliveries${flashQ(c, 'done', 'Delivery replayed.')}`, 303);
  });

  // (a mounted app's notFound is its parent's: a last route keeps the console's 404 a page)
  app.all('*', (c) => page(c, 'Not found', <p>There is no such page. <a href="/console">Back to the numbers</a></p>, 404));
  return app;
}

function badgeClass(status: string) {
  return status === 'succeeded' ? 'ok' : status === 'failed' ? 'bad' : status === 'scheduled' || status === 'pending' ? 'wait' : '';
}

function actionsAtAGlance(cfg: any): string[] {
  const out: string[] = [];
  if (cfg.auto_reply) out.push(cfg.auto_reply.schedule?.type === 'scheduled' ? `Auto reply at ${cfg.auto_reply.schedule.at}` : 'Auto reply');
  if (cfg.forward?.sms) out.push(`Forward SMS to ${cfg.forward.sms.to}`);
  if (cfg.forward?.email) out.push(`Forward email to ${cfg.forward.email.to.join(', ')}`);
  if (cfg.trigger) out.push(cfg.trigger.callback_profile_id ? 'Trigger (callback profile)' : 'Trigger URL');
  if (cfg.subscribe) out.push('Subscribe');
  if (cfg.unsubscribe) out.push(cfg.unsubscribe.scope === 'all' ? 'Unsubscribe (all sender IDs)' : `Unsubscribe (${cfg.unsubscribe.senders.join(', ')})`);
  if (cfg.expiry_message) out.push('Expiry message');
  return out;
}

function DeliveriesTable(props: { rows: any[]; replay?: string }) {
  if (props.rows.length === 0) return <p>None.</p>;
  return (
    <div class="table"><table class="stack">
      <thead><tr><th scope="col">Message</th><th scope="col">URL</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th>{props.replay && <th scope="col"><span class="sr-only">Replay</span></th>}</tr></thead>
      <tbody>
        {props.rows.map((d) => (
          <tr>
            <td data-label="Message">{d.log_id ? <a href={`/console/logs/${encodeURIComponent(d.log_id)}`}>{d.log_id}</a> : '—'}</td>
            <td data-label="URL">{d.method} {d.url}</td>
            <td data-label="Status"><Status status={d.status} /></td>
            <td data-label="Attempts">{d.attempts}{d.replays ? ` (${d.replays} replays)` : ''}</td>
            <td data-label="Last answer">{d.last_status_code ?? ''} {d.last_error ?? ''}</td>
            {props.replay && (
              <td>
                <form method="post" action={`/console/deliveries/${encodeURIComponent(d.id)}/replay`}>
                  <input type="hidden" name="_csrf" value={props.replay} />
                  <button type="submit" class="secondary">Replay</button>
                </form>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table></div>
  );
}

function DryRunBox(props: { action: string; number?: string; dry: { message: string; source: string; res: { status: number; body: any } } | null }) {
  const d = props.dry;
  const r = d?.res.body;
  return (
    <section class="card" aria-labelledby="dry-run-title">
      <h2 id="dry-run-title">Try a message (dry run)</h2>
      <p class="muted">What a message would do under the saved configurations; nothing is sent or stored.</p>
      <form method="get" action={props.action}>
        {props.number !== undefined && <input type="hidden" name="dry_number" value={props.number} />}
        <div class="row">
          <Field name="dry_message" label="Message" value={d?.message} />
          <Field name="dry_source" label="From (optional)" value={d?.source} placeholder="+919812345678" />
        </div>
        <div class="actions"><button type="submit">Dry run</button></div>
      </form>
      {d && (d.res.status !== 200
        ? <p class="summary" role="alert">{r?.error?.message ?? `the API answered ${d.res.status}`}</p>
        : (
          <div role="status" id="dry-run-result">
            <h3>Outcome: <Status status={r.outcome} /></h3>
            {r.matched && <p>Matched <strong>{r.matched.phrase}</strong> (via {r.matched.via}).</p>}
            {r.reason && <p>{r.reason}</p>}
            {Object.keys(r.variables ?? {}).length > 0 && (
              <details><summary>Variables</summary><dl>{Object.entries(r.variables).map(([k, v]) => <><dt>{k}</dt><dd>{String(v)}</dd></>)}</dl></details>
            )}
            <ul>
              {(r.actions ?? []).map((a: any) => (
                <li><strong>{a.type}</strong>{a.text !== undefined && <>: <q>{a.text}</q></>}{a.message !== undefined && <>: <q>{String(a.message)}</q></>}{a.url && <> → {a.method ?? ''} {a.url}</>}{a.to && <> to {Array.isArray(a.to) ? a.to.join(', ') : String(a.to)}</>}</li>
              ))}
            </ul>
            {(r.actions ?? []).length === 0 && <p>No actions would run.</p>}
          </div>
        ))}
    </section>
  );
}

const FORM_INPUTS = new Set([
  'number', 'default', 'keyword', 'aliases', 'template', 'expires_at', 'expiry_message', 'expiry_sender', 'expiry_route', 'expiry_template_id',
  'auto_reply', 'auto_reply.sender', 'auto_reply.message', 'auto_reply.route', 'auto_reply.template_id', 'auto_reply.schedule.at',
  'forward', 'forward.sms.to', 'forward.sms.sender', 'forward.sms.route', 'forward.sms.template_id', 'forward.email.to',
  'trigger', 'trigger.url', 'trigger.method', 'trigger.body', 'trigger.content_type', 'trigger.callback_profile_id',
  'subscribe', 'unsubscribe', 'unsubscribe.senders', 'dry_since',
]);

function ConfigForm(props: {
  id: string | null; values: FormValues; error: ApiError | null; csrf: string; india: boolean; timezone: string;
  numbers: any[]; senders: string[]; profiles: any[]; replay: any;
}) {
  const v = (name: string) => { const x = props.values[name]; return Array.isArray(x) ? x[0] ?? '' : x ?? ''; };
  const checked = (name: string) => v(name) !== '';
  const at = inputForField(props.error?.field, FORM_INPUTS);
  const err = (name: string) => (at === name ? props.error!.message : null);
  const selected = props.numbers.find((n) => n.number === v('number')) ?? (props.id ? null : props.numbers[0]);
  const sharedSelected = !!selected?.shared;
  const senderOptions = props.senders.map((s) => ({ value: s, label: s }));
  const routes = [{ value: 'TXN', label: 'Transactional (TXN)' }, { value: 'MKT', label: 'Marketing (MKT)' }];
  const unsubSenders = new Set(Array.isArray(props.values['unsubscribe.senders']) ? props.values['unsubscribe.senders'] : [v('unsubscribe.senders')]);
  const Toggle = (p: { name: string; label: string; reveals?: string }) => (
    <label class="toggle"><input type="checkbox" role="switch" name={p.name} id={`f-${p.name.replace(/\./g, '-')}`} checked={checked(p.name)} data-reveals={p.reveals} /> {p.label}</label>
  );
  const Dlt = (p: { prefix: string }) => props.india ? (
    <div class="row">
      <Select name={`${p.prefix}.route`} label="SMS Route" value={v(`${p.prefix}.route`)} blank="Choose a route" options={routes} error={err(`${p.prefix}.route`)} />
      <Field name={`${p.prefix}.template_id`} label="Template ID" hint="the DLT template id (India)" value={v(`${p.prefix}.template_id`)} error={err(`${p.prefix}.template_id`)} />
    </div>
  ) : null;
  return (
    <form method="post" action={props.id ? `/console/configs/${props.id}` : '/console/configs'} novalidate>
      <input type="hidden" name="_csrf" value={props.csrf} />
      {props.error && (
        <div class="summary" role="alert">
          <p style="margin:0">The configuration was not saved: {at ? <a href={`#f-${at.replace(/\./g, '-')}`}>{props.error.message}</a> : props.error.message}</p>
        </div>
      )}
      <fieldset>
        <legend>Select SMS Recipient</legend>
        {props.id
          ? <><Field name="number-shown" label="Recipient Number" value={v('number')} disabled /><input type="hidden" name="number" value={v('number')} /></>
          : <Select name="number" label="Select Recipient Number" value={selected?.number} error={err('number')}
              options={props.numbers.map((n) => ({ value: n.number, label: `${n.number}${n.shared ? ' (shared short code)' : ''}`, data: { shared: String(n.shared) } }))} />}
        <label class="inline">
          <input type="checkbox" name="default" id="f-default" checked={checked('default') && !sharedSelected} disabled={sharedSelected} aria-describedby="f-default-hint" />
          Default Configuration
        </label>
        <div id="f-default-hint" class="muted">For messages that match no keyword; not on a shared short code.</div>
        {err('default') && <p class="error">{err('default')}</p>}
        <Field name="keyword" label="Template / Keyword" hint="a keyword (HELP, GET OFFER) of at most 30 characters" value={v('keyword')} error={err('keyword')} disabled={checked('default')} />
        <Field name="aliases" label="Aliases" hint="more keywords, separated by commas" value={v('aliases')} error={err('aliases')} disabled={checked('default')} />
        <Field name="template" label="Template" hint="the keyword, then named parts: JOIN <name> <city>" value={v('template')} error={err('template')} />
        <div class="row">
          <Field name="expires_at" label="Keyword Expiry" hint={`on the account's clock (${props.timezone}); a past one saves, inactive`} type="datetime-local" step={1} value={toInputDateTime(v('expires_at'))} error={err('expires_at')} />
          <Field name="expiry_message" label="Expiry message" value={v('expiry_message')} error={err('expiry_message')} />
        </div>
        <div class="row">
          <Select name="expiry_sender" label="Expiry message Sender ID" value={v('expiry_sender')} blank="Choose a sender ID" options={senderOptions} error={err('expiry_sender')} />
        </div>
        {props.india && (
          <div class="row">
            <Select name="expiry_route" label="Expiry message SMS Route" value={v('expiry_route')} blank="Choose a route" options={routes} error={err('expiry_route')} />
            <Field name="expiry_template_id" label="Expiry message Template ID" hint="the DLT template id (India)" value={v('expiry_template_id')} error={err('expiry_template_id')} />
          </div>
        )}
      </fieldset>

      <fieldset>
        <legend>Configuration</legend>
        {(['auto_reply', 'forward', 'trigger', 'subscribe', 'unsubscribe'] as const).map((s) => err(s) && <p class="error">{err(s)}</p>)}
        <Toggle name="auto_reply" label="Auto Reply" reveals="sec-auto-reply" />
        <div id="sec-auto-reply" class="card">
          <Select name="auto_reply.sender" label="Sender ID" value={v('auto_reply.sender')} blank="Choose a sender ID" options={senderOptions} error={err('auto_reply.sender')} />
          <Field name="auto_reply.message" label="Message Content" hint="variables: <source>, <recipient>, <keyword>, template parts" textarea value={v('auto_reply.message')} error={err('auto_reply.message')} />
          <Dlt prefix="auto_reply" />
          <div role="radiogroup" aria-labelledby="reply-type">
            <div id="reply-type" style="font-weight:600;margin-top:.75rem">Reply Type</div>
            <label class="inline"><input type="radio" name="auto_reply.schedule.type" value="instant" checked={v('auto_reply.schedule.type') !== 'scheduled'} /> Instant Reply</label>
            <label class="inline"><input type="radio" name="auto_reply.schedule.type" value="scheduled" checked={v('auto_reply.schedule.type') === 'scheduled'} data-reveals="sec-schedule" /> Scheduled Reply</label>
          </div>
          <div id="sec-schedule">
            <Field name="auto_reply.schedule.at" label={`Reply at (${props.timezone})`} type="datetime-local" step={1} value={toInputDateTime(v('auto_reply.schedule.at'))} error={err('auto_reply.schedule.at')} />
          </div>
        </div>

        <Toggle name="forward" label="Forward" reveals="sec-forward" />
        <div id="sec-forward" class="card">
          <div role="group" aria-label="Forward by">
            <label class="inline"><input type="checkbox" name="forward.sms" id="f-forward-sms" checked={checked('forward.sms')} data-reveals="sec-forward-sms" /> SMS</label>
            <label class="inline"><input type="checkbox" name="forward.email" id="f-forward-email" checked={checked('forward.email')} data-reveals="sec-forward-email" /> Email</label>
          </div>
          <div id="sec-forward-sms">
            <Field name="forward.sms.to" label="Forward to" hint="E.164, like +919812345678" value={v('forward.sms.to')} error={err('forward.sms.to')} />
            <Select name="forward.sms.sender" label="Sender ID" value={v('forward.sms.sender')} blank="Choose a sender ID" options={senderOptions} error={err('forward.sms.sender')} />
            <Dlt prefix="forward.sms" />
          </div>
          <div id="sec-forward-email">
            <Field name="forward.email.to" label="Email Forward" hint="one or more addresses, separated by commas" value={v('forward.email.to')} error={err('forward.email.to')} />
          </div>
        </div>

        <Toggle name="trigger" label="Trigger URL" reveals="sec-trigger" />
        <div id="sec-trigger" class="card">
          <div role="radiogroup" aria-labelledby="trigger-type">
            <div id="trigger-type" style="font-weight:600">Trigger Type</div>
            <label class="inline"><input type="radio" name="trigger.kind" value="url" checked={v('trigger.kind') !== 'profile'} data-reveals="sec-trigger-url" /> Trigger URL</label>
            <label class="inline"><input type="radio" name="trigger.kind" value="profile" checked={v('trigger.kind') === 'profile'} data-reveals="sec-trigger-profile" /> Callback ID</label>
          </div>
          <div id="sec-trigger-url">
            <Field name="trigger.url" label="Trigger URL" type="url" hint="may name <source>, <recipient>, <message>…" value={v('trigger.url')} error={err('trigger.url')} />
            <Select name="trigger.method" label="Method" value={v('trigger.method') || 'POST'} options={[{ value: 'POST', label: 'POST' }, { value: 'GET', label: 'GET' }]} error={err('trigger.method')} />
            <Field name="trigger.body" label="Request Body" textarea value={v('trigger.body')} error={err('trigger.body')} />
            <Field name="trigger.content_type" label="Request Type" placeholder="application/json" value={v('trigger.content_type')} error={err('trigger.content_type')} />
          </div>
          <div id="sec-trigger-profile">
            <Select name="trigger.callback_profile_id" label="Callback profile" value={v('trigger.callback_profile_id')} blank="Choose a profile" error={err('trigger.callback_profile_id')}
              options={props.profiles.map((p) => ({ value: p.id, label: `${p.title} (${p.http_method})` }))} />
          </div>
        </div>

        <Toggle name="subscribe" label="Subscribe" />
        <div class="muted">The customer is opted in.</div>

        <Toggle name="unsubscribe" label="Unsubscribe" reveals="sec-unsubscribe" />
        <div id="sec-unsubscribe" class="card">
          <div role="radiogroup" aria-label="Unsubscribe from">
            <label class="inline"><input type="radio" name="unsubscribe.scope" value="configured" checked={v('unsubscribe.scope') !== 'all'} data-reveals="sec-unsub-senders" /> Configured Sender IDs</label>
            <label class="inline"><input type="radio" name="unsubscribe.scope" value="all" checked={v('unsubscribe.scope') === 'all'} /> All Sender IDs</label>
          </div>
          <fieldset id="sec-unsub-senders">
            <legend>Sender IDs</legend>
            {props.senders.map((s) => <label class="inline"><input type="checkbox" name="unsubscribe.senders" value={s} checked={unsubSenders.has(s)} /> {s}</label>)}
            {props.senders.length === 0 && <p class="muted">No sender IDs registered.</p>}
            {err('unsubscribe.senders') && <p class="error">{err('unsubscribe.senders')}</p>}
          </fieldset>
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit">Save</button>
        <a class="button secondary" href={v('number') ? `/console/numbers/${encodeURIComponent(v('number'))}` : '/console'} data-confirm="Are you sure you want to close the form?">Cancel</a>
      </div>
      {/* after Save, so that Enter in a field saves */}
      <fieldset>
        <legend>Try this configuration on past messages</legend>
        <p class="muted" style="margin-top:0">Replays the number's messages since a time against this form as it is, unsaved: how many it would take, and what takes them today. Nothing is saved or sent.</p>
        {props.id && <input type="hidden" name="id" value={props.id} />}
        <Field name="dry_since" label={`Messages since (${props.timezone})`} type="datetime-local" step={1} value={v('dry_since')} error={err('dry_since')} />
        <div class="actions"><button type="submit" class="secondary" formaction="/console/configs/replay">Try on past messages</button></div>
        {props.replay && (
          <div role="status" id="replay-result">
            <p><strong>{props.replay.matched}</strong> of {props.replay.scanned} messages since {when(props.replay.covered_from ?? props.replay.since)} would be taken ({props.replay.outcome}).</p>
            {props.replay.truncated && (
              <p class="muted">The replay stopped early ({props.replay.truncated_reason === 'time' ? 'its time ran out' : `${props.replay.limit} messages read`}): {props.replay.covered_from ? `it covers the messages from ${when(props.replay.covered_from)} on, not those since ${when(props.replay.since)}` : 'no whole instant was read'}.</p>
            )}
            {props.replay.taken_from.length > 0 && (
              <ul>
                {(props.replay.taken_from as any[]).map((t) => (
                  <li>{t.count} today go to {t.other_account ? 'another account' : t.keyword ? `keyword ${t.keyword}` : t.outcome === 'default' ? 'the default configuration' : t.outcome === 'no_match' ? 'nothing (no match)' : t.outcome}</li>
                ))}
              </ul>
            )}
          </div>
        )}
      </fieldset>
    </form>
  );
}

/** The profile form's values as the API's create body; a header line it cannot read is its own error. */
function profileFromForm(f: FormValues): { body: Record<string, unknown> } | { error: ApiError } {
  const v = (n: string) => String((Array.isArray(f[n]) ? f[n][0] : f[n]) ?? '').trim();
  const headers: Record<string, string> = {};
  for (const line of v('headers').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf(':');
    if (at <= 0) return { error: { code: 'invalid_field', field: 'headers', message: `headers: "${line}" is not a "Name: value" line` } };
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  const body: Record<string, unknown> = { title: v('title'), http_method: v('http_method') || 'POST', url: v('url') };
  if (v('body')) body.body = v('body');
  if (v('content_type')) body.content_type = v('content_type');
  if (Object.keys(headers).length) body.headers = headers;
  if (v('auth') === 'basic') body.auth = { type: 'basic', username: v('auth.username'), password: v('auth.password') };
  return { body };
}

const PROFILE_INPUTS = new Set(['title', 'http_method', 'url', 'body', 'content_type', 'headers', 'auth', 'auth.username', 'auth.password']);

function ProfileForm(props: { csrf: string; values: FormValues; error: ApiError | null }) {
  const v = (n: string) => String((Array.isArray(props.values[n]) ? props.values[n][0] : props.values[n]) ?? '');
  const at = inputForField(props.error?.field, PROFILE_INPUTS);
  const err = (n: string) => (at === n ? props.error!.message : null);
  return (
    <form method="post" action="/console/callback-profiles" class="card" novalidate>
      <h2>New callback profile</h2>
      <input type="hidden" name="_csrf" value={props.csrf} />
      {props.error && <p class="summary" role="alert">The profile was not created: {at ? <a href={`#f-${at.replace(/\./g, '-')}`}>{props.error.message}</a> : props.error.message}</p>}
      <div class="row">
        <Field name="title" label="Title" value={v('title')} error={err('title')} />
        <Select name="http_method" label="Method" value={v('http_method') || 'POST'} options={[{ value: 'POST', label: 'POST' }, { value: 'GET', label: 'GET' }]} error={err('http_method')} />
      </div>
      <Field name="url" label="Endpoint URL" type="url" hint="may name <source>, <recipient>, <message>…" value={v('url')} error={err('url')} />
      <Field name="body" label="Request body (POST)" textarea value={v('body')} error={err('body')} />
      <Field name="content_type" label="Content type (POST)" placeholder="application/json" value={v('content_type')} error={err('content_type')} />
      <Field name="headers" label="Extra headers" hint="one per line: Name: value" textarea value={v('headers')} error={err('headers')} />
      <div role="radiogroup" aria-labelledby="auth-type">
        <div id="auth-type" style="font-weight:600;margin-top:.75rem">Authentication</div>
        <label class="inline"><input type="radio" name="auth" value="none" checked={v('auth') !== 'basic'} /> None</label>
        <label class="inline"><input type="radio" name="auth" value="basic" checked={v('auth') === 'basic'} data-reveals="sec-basic" /> Basic</label>
      </div>
      {err('auth') && <p class="error">{err('auth')}</p>}
      <div id="sec-basic" class="row">
        <Field name="auth.username" label="Username" value={v('auth.username')} error={err('auth.username')} autocomplete="off" />
        <Field name="auth.password" label="Password" type="password" error={err('auth.password')} autocomplete="new-password" />
      </div>
      <div class="actions"><button type="submit">Create profile</button></div>
    </form>
  );
}
