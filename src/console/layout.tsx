/** @jsxImportSource hono/jsx */
import { createHash } from 'node:crypto';
import type { Child } from 'hono/jsx';
import { raw } from 'hono/html';

// Dark text on light ground, links and focus rings at WCAG AA contrast; one column on a phone.
const css = `
*{box-sizing:border-box}
[hidden]{display:none!important}
code{overflow-wrap:anywhere}
body{margin:0;font:16px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1a1a1a;background:#f6f7f9}
a{color:#0b57d0}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
header{background:#1f2937;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header a{color:#fff}header a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}header strong{margin-right:auto}
header nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header form{margin:0}header button{background:none;border:1px solid #fff;color:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid #d0d5dd;border-radius:6px;padding:1rem;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #d0d5dd;vertical-align:top}
th{background:#eef0f3}
.table{overflow-x:auto;position:relative;margin-bottom:1rem}
.card>h2:first-child,.card>section>h2:first-child{margin-top:0}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
label.inline{display:inline-flex;gap:.4rem;align-items:center;font-weight:400;margin:.25rem 1rem .25rem 0}
input[type=text],input[type=password],input[type=email],input[type=datetime-local],input[type=url],input[type=search],select,textarea{width:100%;max-width:32rem;padding:.45rem;border:1px solid #667085;border-radius:4px;font:inherit;background:#fff;color:#1a1a1a}
input:disabled,select:disabled,textarea:disabled{background:#eceef1;color:#555}
textarea{min-height:4.5rem}
input[type=checkbox],input[type=radio]{width:1.15rem;height:1.15rem;accent-color:#0b57d0}
.toggle{display:flex;gap:.5rem;align-items:center;font-weight:700;margin:1rem 0 .25rem}
button,.button{display:inline-block;padding:.45rem .9rem;border-radius:4px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;font:inherit;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:#0b57d0}
button.danger{background:#b42318;border-color:#b42318}
fieldset{border:1px solid #d0d5dd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem 1rem;background:#fff}
legend{font-weight:700;padding:0 .25rem}
.error{color:#b42318;font-weight:600;margin:.25rem 0}
[aria-invalid=true]{border-color:#b42318;border-width:2px}
.summary{border:2px solid #b42318;background:#fef3f2;padding:.75rem 1rem;border-radius:6px}
.notice{border:2px solid #067647;background:#ecfdf3;padding:.75rem 1rem;border-radius:6px}
.badge{display:inline-block;padding:0 .4rem;border-radius:4px;background:#eef0f3;border:1px solid #98a2b3;font-size:.85rem;margin:0 .2rem .2rem 0;white-space:nowrap}
.ok{background:#ecfdf3;border-color:#067647;color:#05603a}.bad{background:#fef3f2;border-color:#b42318;color:#912018}.wait{background:#fffaeb;border-color:#b54708;color:#93370d}
.row{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-start}
.row>div{flex:1 1 10rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:1rem}
.actions form{margin:0}
.muted{color:#475467}
pre{white-space:pre-wrap;word-break:break-word;background:#f2f4f7;padding:.5rem;border-radius:4px;margin:.25rem 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dt{font-weight:600}dd{margin:0;word-break:break-word}
@media (max-width:40rem){main{padding:.5rem}dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}
table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table.stack tr{display:block;border-bottom:2px solid #98a2b3;padding:.25rem 0}
table.stack td{display:block;border:none;padding:.15rem .5rem}
table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:600}}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.sr-only:focus{position:static;width:auto;height:auto;clip-path:none;background:#fff;padding:.25rem}
`;

// A little progressive enhancement; every form works without it.
const js = `
(function(){
function reveal(t){var s=document.getElementById(t.getAttribute('data-reveals'));if(s)s.hidden=!t.checked}
document.querySelectorAll('input[data-reveals]').forEach(function(t){
  var group=t.type==='radio'?document.querySelectorAll('input[type=radio][name="'+t.name+'"]'):[t];
  group.forEach(function(g){g.addEventListener('change',function(){reveal(t)})});reveal(t);
});
var d=document.getElementById('f-default'),k=document.getElementById('f-keyword'),a=document.getElementById('f-aliases'),n=document.getElementById('f-number');
function kw(){if(d&&k){k.disabled=d.checked;if(a)a.disabled=d.checked}}
function num(){if(n&&d){var o=n.options[n.selectedIndex];var shared=!!o&&o.getAttribute('data-shared')==='true';d.disabled=shared;if(shared)d.checked=false;kw()}}
if(d)d.addEventListener('change',kw);if(n)n.addEventListener('change',num);num();kw();
document.querySelectorAll('[data-confirm]').forEach(function(el){
  el.addEventListener(el.tagName==='FORM'?'submit':'click',function(e){if(!window.confirm(el.getAttribute('data-confirm')))e.preventDefault()});
});
var r=document.querySelector('[data-refresh]');
if(r){setInterval(function(){
  if(document.hidden)return;
  fetch(location.href,{credentials:'same-origin'}).then(function(res){return res.ok?res.text():null}).then(function(html){
    if(!html)return;var doc=new DOMParser().parseFromString(html,'text/html');var nr=doc.querySelector('[data-refresh]');if(nr)r.innerHTML=nr.innerHTML;
  }).catch(function(){});
},Number(r.getAttribute('data-refresh'))*1000)}
})();
`;

/**
 * The console's Content-Security-Policy: its one inline script by hash, nothing from elsewhere,
 * forms posted only here, never framed.
 */
export const CONSOLE_CSP = [
  "default-src 'none'", `script-src 'sha256-${createHash('sha256').update(js).digest('base64')}'`, "style-src 'unsafe-inline'",
  "img-src 'self'", "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

export type Nav = { account: { sid: string; name: string }; csrf: string; path: string } | null;

const LINKS: [href: string, label: string, also?: RegExp][] = [
  ['/console', 'Numbers', /^\/console\/(numbers|configs)/], ['/console/logs', 'Message logs'], ['/console/subscriptions', 'Opt-in / opt-out'],
  ['/console/callback-profiles', 'Callback profiles'], ['/console/deliveries', 'Failed deliveries'],
];

export function Layout(props: { title: string; nav: Nav; children?: Child }) {
  // A doctype first: without it browsers render the page in quirks mode.
  return (
    <>
    {raw('<!DOCTYPE html>')}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · SMS console</title>
        <style>{raw(css)}</style>
      </head>
      <body>
        <a class="sr-only" href="#main">Skip to content</a>
        <header>
          <strong>SMS console{props.nav ? ` · ${props.nav.account.name}` : ''}</strong>
          {props.nav && (
            <>
              <nav aria-label="Console">
                {LINKS.map(([href, label, also]) => {
                  const path = props.nav!.path.replace(/\/$/, '');
                  const current = path === href || (href !== '/console' && path.startsWith(`${href}/`)) || !!also?.test(path);
                  return <a href={href} aria-current={current ? 'page' : undefined}>{label}</a>;
                })}
              </nav>
              <form method="post" action="/console/sign-out">
                <input type="hidden" name="_csrf" value={props.nav.csrf} />
                <button type="submit">Sign out</button>
              </form>
            </>
          )}
        </header>
        <main id="main">
          <h1>{props.title}</h1>
          {props.children}
        </main>
        <script>{raw(js)}</script>
      </body>
    </html>
    </>
  );
}

/** A labelled input with its error beside it (aria-describedby), named after the API's field. */
export function Field(props: {
  name: string; label: string; value?: string; error?: string | null; type?: string; hint?: string;
  required?: boolean; disabled?: boolean; maxlength?: number; placeholder?: string; step?: number; textarea?: boolean; autocomplete?: string;
}) {
  const id = `f-${props.name.replace(/\./g, '-')}`;
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = { id, name: props.name, 'aria-invalid': props.error ? 'true' : undefined, 'aria-describedby': described, disabled: props.disabled, required: props.required };
  return (
    <div>
      <label for={id}>{props.label}</label>
      {props.hint && <div id={`${id}-hint`} class="muted">{props.hint}</div>}
      {props.textarea
        ? <textarea {...common}>{props.value ?? ''}</textarea>
        : <input {...common} type={props.type ?? 'text'} value={props.value ?? ''} maxlength={props.maxlength} placeholder={props.placeholder} step={props.step} autocomplete={props.autocomplete} />}
      {props.error && <p id={`${id}-error`} class="error">{props.error}</p>}
    </div>
  );
}

export function Select(props: { name: string; label: string; value?: string; options: { value: string; label: string; data?: Record<string, string> }[]; error?: string | null; blank?: string; disabled?: boolean }) {
  const id = `f-${props.name.replace(/\./g, '-')}`;
  return (
    <div>
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} disabled={props.disabled} aria-invalid={props.error ? 'true' : undefined} aria-describedby={props.error ? `${id}-error` : undefined}>
        {props.blank !== undefined && <option value="">{props.blank}</option>}
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.value} {...Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [`data-${k}`, v]))}>{o.label}</option>
        ))}
      </select>
      {props.error && <p id={`${id}-error`} class="error">{props.error}</p>}
    </div>
  );
}

export function Status(props: { status: string }) {
  const cls = ['succeeded', 'applied', 'subscribed', 'keyword', 'default', 'standard', 'completed', 'active'].includes(props.status) ? 'ok'
    : ['failed', 'expired', 'unsubscribed', 'no_match', 'unknown_number', 'auto_disabled', 'disabled'].includes(props.status) ? 'bad'
      : ['pending', 'scheduled', 'queued', 'running', 'started'].includes(props.status) ? 'wait' : '';
  return <span class={`badge ${cls}`}>{props.status}</span>;
}
