/**
 * The New / Edit Configuration form ↔ the API's receive configuration (SPEC §2). The form's
 * inputs are named after the API's fields (`auto_reply.message`, `forward.sms.to`), so an error
 * the API names a field for is shown beside the input of that name. A section's toggle is the
 * input named after the section (`auto_reply`, `forward`, …): off, the section is not sent.
 */
export type FormValues = Record<string, string | string[]>;

const one = (f: FormValues, name: string): string => {
  const v = f[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
};
const all = (f: FormValues, name: string): string[] => {
  const v = f[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((s) => s.trim()).filter(Boolean);
};
const on = (f: FormValues, name: string) => one(f, name) !== '';
const list = (s: string) => s.split(/[,\n]/).map((x) => x.trim()).filter(Boolean);

/** `datetime-local` gives `YYYY-MM-DDTHH:MM[:SS]`; the API takes `YYYY-MM-DD HH:MM:SS`. */
export function toApiDateTime(s: string): string {
  const v = s.trim().replace('T', ' ');
  return /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(v) ? `${v}:00` : v;
}
/** …and back, for the input's value. */
export const toInputDateTime = (s: string | null | undefined) => (s ? s.replace(' ', 'T') : '');

/** Only what was given: an empty optional input is left out, as the API's own default. */
function opt<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== undefined)) as Partial<T>;
}

export function configFromForm(f: FormValues): Record<string, unknown> {
  const isDefault = on(f, 'default');
  const body: Record<string, unknown> = { number: one(f, 'number'), default: isDefault };
  if (!isDefault) body.keyword = one(f, 'keyword');
  const aliases = list(one(f, 'aliases'));
  if (!isDefault && aliases.length) body.aliases = aliases;
  if (one(f, 'template')) body.template = one(f, 'template');
  if (one(f, 'expires_at')) body.expires_at = toApiDateTime(one(f, 'expires_at'));
  if (one(f, 'expiry_message')) body.expiry_message = one(f, 'expiry_message');
  for (const k of ['expiry_sender', 'expiry_route', 'expiry_template_id']) if (one(f, k)) body[k] = one(f, k);
  if (on(f, 'auto_reply')) {
    const scheduled = one(f, 'auto_reply.schedule.type') === 'scheduled';
    body.auto_reply = {
      ...opt({ sender: one(f, 'auto_reply.sender'), message: one(f, 'auto_reply.message'), route: one(f, 'auto_reply.route'), template_id: one(f, 'auto_reply.template_id') }),
      schedule: scheduled ? { type: 'scheduled', at: toApiDateTime(one(f, 'auto_reply.schedule.at')) } : { type: 'instant' },
    };
  }
  if (on(f, 'forward')) {
    const forward: Record<string, unknown> = {};
    if (on(f, 'forward.sms')) {
      forward.sms = opt({ to: one(f, 'forward.sms.to'), sender: one(f, 'forward.sms.sender'), route: one(f, 'forward.sms.route'), template_id: one(f, 'forward.sms.template_id') });
    }
    if (on(f, 'forward.email')) forward.email = { to: list(one(f, 'forward.email.to')) };
    body.forward = forward;
  }
  if (on(f, 'trigger')) {
    body.trigger = one(f, 'trigger.kind') === 'profile'
      ? { callback_profile_id: one(f, 'trigger.callback_profile_id') }
      : opt({ url: one(f, 'trigger.url'), method: one(f, 'trigger.method'), body: one(f, 'trigger.body'), content_type: one(f, 'trigger.content_type') });
  }
  if (on(f, 'subscribe')) body.subscribe = true;
  if (on(f, 'unsubscribe')) {
    body.unsubscribe = one(f, 'unsubscribe.scope') === 'all'
      ? { scope: 'all' }
      : { scope: 'configured', senders: all(f, 'unsubscribe.senders') };
  }
  return body;
}

type Config = Record<string, any>;

/** A stored configuration as the form's values, for Edit. */
export function formFromConfig(c: Config): FormValues {
  const f: FormValues = { number: c.number ?? '' };
  const set = (name: string, v: unknown) => {
    if (v !== null && v !== undefined && v !== '' && v !== false) f[name] = v === true ? 'on' : String(v);
  };
  set('default', c.default);
  set('keyword', c.keyword);
  if (c.aliases?.length) f.aliases = c.aliases.join(', ');
  set('template', c.template);
  set('expires_at', toInputDateTime(c.expires_at));
  set('expiry_message', c.expiry_message);
  set('expiry_sender', c.expiry_sender);
  set('expiry_route', c.expiry_route);
  set('expiry_template_id', c.expiry_template_id);
  if (c.auto_reply) {
    f.auto_reply = 'on';
    set('auto_reply.sender', c.auto_reply.sender);
    set('auto_reply.message', c.auto_reply.message);
    set('auto_reply.route', c.auto_reply.route);
    set('auto_reply.template_id', c.auto_reply.template_id);
    f['auto_reply.schedule.type'] = c.auto_reply.schedule?.type ?? 'instant';
    set('auto_reply.schedule.at', toInputDateTime(c.auto_reply.schedule?.at));
  }
  if (c.forward) {
    f.forward = 'on';
    if (c.forward.sms) {
      f['forward.sms'] = 'on';
      for (const k of ['to', 'sender', 'route', 'template_id']) set(`forward.sms.${k}`, c.forward.sms[k]);
    }
    if (c.forward.email) {
      f['forward.email'] = 'on';
      f['forward.email.to'] = (c.forward.email.to ?? []).join(', ');
    }
  }
  if (c.trigger) {
    f.trigger = 'on';
    f['trigger.kind'] = c.trigger.callback_profile_id ? 'profile' : 'url';
    for (const k of ['url', 'method', 'body', 'content_type', 'callback_profile_id']) set(`trigger.${k}`, c.trigger[k]);
  }
  set('subscribe', c.subscribe);
  if (c.unsubscribe) {
    f.unsubscribe = 'on';
    f['unsubscribe.scope'] = c.unsubscribe.scope;
    if (c.unsubscribe.senders) f['unsubscribe.senders'] = c.unsubscribe.senders;
  }
  return f;
}

/**
 * The input an API error belongs beside: its field, less list indexes (`forward.email.to.0` is
 * the `forward.email.to` input), or the nearest enclosing section that the form has.
 */
export function inputForField(field: string | undefined, inputs: ReadonlySet<string>): string | null {
  if (!field) return null;
  let parts = field.split('.').filter((p) => !/^\d+$/.test(p));
  while (parts.length) {
    const name = parts.join('.');
    if (inputs.has(name)) return name;
    parts = parts.slice(0, -1);
  }
  return null;
}
