import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { checkReceiveConfig, receiveConfigInputSchema, type ReceiveConfigInput } from '../../src/domain/receive-config.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const US = { country: 'US', timezone: 'UTC' };
const IN = { country: 'IN', timezone: 'Asia/Kolkata' };
/** Kolkata's clock without India's DLT rules. */
const IN_NO_DLT = { country: 'US', timezone: 'Asia/Kolkata' };
const trigger = { url: 'https://example.com/mo' };
const dlt = { route: 'TXN', template_id: '1107161234567890123' };

/** Parses as the API does, then applies the domain rules. */
function check(body: Record<string, unknown>, account = US, now = NOW) {
  const input: ReceiveConfigInput = receiveConfigInputSchema.parse({ number: '+919876543210', ...body });
  return checkReceiveConfig(input, account, now);
}

/** The ValidationError a body breaks, or a failure when it passes. */
function problem(body: Record<string, unknown>, account = US, now = NOW): { field: string; message: string } {
  try {
    check(body, account, now);
  } catch (e) {
    if (e instanceof ValidationError) return { field: e.field, message: e.message };
    throw e;
  }
  throw new Error(`expected a validation error for ${JSON.stringify(body)}`);
}

describe('checkReceiveConfig: keywords', () => {
  it('normalises the keyword and aliases', () => {
    const rec = check({ keyword: ' get   offer ', aliases: ['deal', ' Hot  Deal'], trigger });
    expect(rec).toMatchObject({ keyword: 'GET OFFER', aliases: ['DEAL', 'HOT DEAL'], isDefault: false });
  });

  it('requires a keyword unless the configuration is the default', () => {
    expect(problem({ trigger })).toEqual({ field: 'keyword', message: 'is required unless default is true' });
  });

  it('refuses an empty keyword and one longer than 30 characters', () => {
    expect(problem({ keyword: '  ', trigger })).toMatchObject({ field: 'keyword', message: 'must not be empty' });
    expect(problem({ keyword: 'K'.repeat(31), trigger })).toMatchObject({ field: 'keyword', message: expect.stringMatching(/30/) });
  });

  it('names the offending alias by index', () => {
    expect(problem({ keyword: 'OFFER', aliases: ['DEAL', ''], trigger })).toMatchObject({ field: 'aliases.1' });
    expect(problem({ keyword: 'OFFER', aliases: ['A'.repeat(31)], trigger })).toMatchObject({ field: 'aliases.0' });
  });

  it('refuses an alias given twice or equal to the keyword, after normalising', () => {
    expect(problem({ keyword: 'OFFER', aliases: ['deal', 'DEAL '], trigger })).toMatchObject({ field: 'aliases.1', message: expect.stringMatching(/twice/) });
    expect(problem({ keyword: 'OFFER', aliases: ['offer'], trigger })).toMatchObject({ field: 'aliases.0' });
  });

  it('parses the template into named parts', () => {
    expect(check({ keyword: 'JOIN', template: 'JOIN <name> <city>', trigger }).templateNames).toEqual(['name', 'city']);
  });

  it('refuses a template that does not start with the keyword or has a bad placeholder', () => {
    expect(problem({ keyword: 'JOIN', template: 'SIGNUP <name>', trigger })).toEqual({ field: 'template', message: 'must start with the keyword' });
    expect(problem({ keyword: 'JOIN', template: 'JOIN <na me>', trigger })).toMatchObject({ field: 'template' });
    expect(problem({ keyword: 'JOIN', template: 'JOIN <message>', trigger })).toMatchObject({ field: 'template' });
  });
});

describe('checkReceiveConfig: the default configuration', () => {
  it('has no keyword', () => {
    const rec = check({ default: true, trigger });
    expect(rec).toMatchObject({ isDefault: true, keyword: null, aliases: [], templateNames: [] });
  });

  it('refuses a keyword, aliases, a template or an expiry', () => {
    expect(problem({ default: true, keyword: 'HI', trigger })).toMatchObject({ field: 'keyword' });
    expect(problem({ default: true, aliases: ['HI'], trigger })).toMatchObject({ field: 'aliases' });
    expect(problem({ default: true, template: 'HI <x>', trigger })).toMatchObject({ field: 'template' });
    expect(problem({ default: true, expires_at: '2030-01-01 00:00:00', trigger })).toMatchObject({ field: 'expires_at' });
  });

  it('takes an empty alias list', () => {
    expect(check({ default: true, aliases: [], trigger }).isDefault).toBe(true);
  });
});

describe('checkReceiveConfig: expiry', () => {
  it('reads expires_at in the account time zone', () => {
    expect(check({ keyword: 'OFFER', expires_at: '2026-12-31 23:59:59', trigger }, IN_NO_DLT).expiresAt?.toISOString()).toBe('2026-12-31T18:29:59.000Z');
    expect(check({ keyword: 'OFFER', expires_at: '2026-12-31 23:59:59', trigger }).expiresAt?.toISOString()).toBe('2026-12-31T23:59:59.000Z');
  });

  it('accepts an expiry in the past (the keyword is then inactive)', () => {
    expect(check({ keyword: 'OLD', expires_at: '2020-01-01 00:00:00', trigger }).expiresAt?.toISOString()).toBe('2020-01-01T00:00:00.000Z');
  });

  it('refuses an expiry that is not a real date-time', () => {
    expect(problem({ keyword: 'OFFER', expires_at: '2026-02-30 10:00:00', trigger })).toEqual({ field: 'expires_at', message: 'is not a real date-time' });
  });

  it('needs expires_at for an expiry_message', () => {
    expect(problem({ keyword: 'OFFER', expiry_message: 'Sorry, it ended', trigger })).toEqual({ field: 'expiry_message', message: 'needs expires_at' });
  });

  it('counts the expiry message as an action', () => {
    expect(check({ keyword: 'OFFER', expires_at: '2020-01-01 00:00:00', expiry_message: 'Sorry, it ended' }).expiryMessage).toBe('Sorry, it ended');
  });
});

describe('checkReceiveConfig: scheduled auto reply', () => {
  const reply = (at: string) => ({ sender: 'KLRHXA', message: 'hi', schedule: { type: 'scheduled', at } });

  it('resolves the time in the account time zone', () => {
    const rec = check({ keyword: 'HI', auto_reply: reply('2026-06-02 09:00:00') }, IN_NO_DLT);
    expect(rec.replyAt?.toISOString()).toBe('2026-06-02T03:30:00.000Z');
  });

  it('takes now (a minute of clock slack) and refuses the past', () => {
    expect(check({ keyword: 'HI', auto_reply: reply('2026-06-01 12:00:00') }).replyAt?.toISOString()).toBe(NOW.toISOString());
    expect(check({ keyword: 'HI', auto_reply: reply('2026-06-01 11:59:30') }).replyAt).not.toBeNull();
    expect(problem({ keyword: 'HI', auto_reply: reply('2026-06-01 11:58:00') })).toEqual({ field: 'auto_reply.schedule.at', message: 'must be now or in the future' });
  });

  it('compares in the account time zone: 17:00 in Kolkata is already past at 12:00 UTC', () => {
    expect(problem({ keyword: 'HI', auto_reply: reply('2026-06-01 17:00:00') }, IN_NO_DLT)).toMatchObject({ field: 'auto_reply.schedule.at' });
  });

  it('refuses a schedule that is not a real date-time', () => {
    expect(problem({ keyword: 'HI', auto_reply: reply('2026-02-30 10:00:00') })).toEqual({ field: 'auto_reply.schedule.at', message: 'is not a real date-time' });
  });

  it('defaults the schedule to instant', () => {
    const rec = check({ keyword: 'HI', auto_reply: { sender: 'KLRHXA', message: 'hi' } });
    expect(rec.autoReply?.schedule).toEqual({ type: 'instant' });
    expect(rec.replyAt).toBeNull();
  });
});

describe('checkReceiveConfig: India needs route and DLT template id', () => {
  const autoReply = { sender: 'KLRHXA', message: 'hi' };
  const sms = { to: '+919812345678', sender: 'KLRHXA' };

  it('on an auto reply', () => {
    expect(problem({ keyword: 'HI', auto_reply: autoReply }, IN)).toMatchObject({ field: 'auto_reply.route' });
    expect(problem({ keyword: 'HI', auto_reply: { ...autoReply, route: 'TXN' } }, IN)).toMatchObject({ field: 'auto_reply.template_id' });
    expect(check({ keyword: 'HI', auto_reply: { ...autoReply, ...dlt } }, IN).autoReply).toMatchObject(dlt);
  });

  it('on an SMS forward', () => {
    expect(problem({ keyword: 'HI', forward: { sms } }, IN)).toMatchObject({ field: 'forward.sms.route' });
    expect(problem({ keyword: 'HI', forward: { sms: { ...sms, route: 'MKT' } } }, IN)).toMatchObject({ field: 'forward.sms.template_id' });
    expect(check({ keyword: 'HI', forward: { sms: { ...sms, ...dlt } } }, IN).forward?.sms).toMatchObject(dlt);
  });

  it('not on an email forward or a webhook', () => {
    expect(check({ keyword: 'HI', forward: { email: { to: 'a@example.com' } } }, IN).forward?.email?.to).toEqual(['a@example.com']);
    expect(check({ keyword: 'HI', trigger }, IN).trigger).toMatchObject(trigger);
  });

  it('not for other countries', () => {
    expect(check({ keyword: 'HI', auto_reply: autoReply, forward: { sms } }, US).autoReply?.route).toBeUndefined();
  });
});

describe('checkReceiveConfig: actions', () => {
  it('needs at least one action', () => {
    expect(problem({ keyword: 'HI' })).toMatchObject({ field: 'actions' });
    expect(problem({ keyword: 'HI', subscribe: false })).toMatchObject({ field: 'actions' });
    expect(problem({ default: true })).toMatchObject({ field: 'actions' });
  });

  it('takes each action alone', () => {
    expect(check({ keyword: 'A', subscribe: true }).subscribe).toBe(true);
    expect(check({ keyword: 'A', unsubscribe: { scope: 'all' } }).unsubscribe).toEqual({ scope: 'all' });
    expect(check({ keyword: 'A', unsubscribe: { scope: 'configured', senders: ['KLRHXA'] } }).unsubscribe).toEqual({ scope: 'configured', senders: ['KLRHXA'] });
    expect(check({ keyword: 'A', trigger: { callback_profile_id: 'p1' } }).trigger).toEqual({ callback_profile_id: 'p1' });
  });

  it('refuses subscribe together with unsubscribe', () => {
    expect(problem({ keyword: 'A', subscribe: true, unsubscribe: { scope: 'all' } })).toMatchObject({ field: 'unsubscribe' });
  });

  it('normalises the number and the SMS forward destination', () => {
    const rec = check({ number: '+91 98765 43210', keyword: 'A', forward: { sms: { to: '0091 98123 45678', sender: 'KLRHXA' } } });
    expect(rec.number).toBe('+919876543210');
    expect(rec.forward?.sms?.to).toBe('+919812345678');
  });
});

describe('receiveConfigInputSchema', () => {
  const issue = (body: Record<string, unknown>) => {
    const r = receiveConfigInputSchema.safeParse({ number: '+919876543210', keyword: 'A', ...body });
    return r.success ? null : r.error.issues[0]!.path.join('.');
  };

  it('refuses unknown fields, at any depth', () => {
    expect(issue({ color: 'red' })).toBe('');
    expect(issue({ trigger: { url: 'https://x.test', extra: 1 } })).toBe('trigger');
  });

  it('checks trigger rules', () => {
    expect(issue({ trigger: {} })).toBe('trigger.url');
    expect(issue({ trigger: { url: 'ftp://x.test/a' } })).toBe('trigger.url');
    expect(issue({ trigger: { url: 'https://x.test', method: 'GET', body: 'x' } })).toBe('trigger.body');
    expect(issue({ trigger: { url: 'https://x.test', callback_profile_id: 'p1' } })).toBe('trigger.url');
    expect(issue({ trigger: { url: 'https://x.test/?m=<message>', method: 'GET' } })).toBeNull();
  });

  it('checks unsubscribe scopes', () => {
    expect(issue({ unsubscribe: { scope: 'configured' } })).toBe('unsubscribe.senders');
    expect(issue({ unsubscribe: { scope: 'configured', senders: [] } })).toBe('unsubscribe.senders');
    expect(issue({ unsubscribe: { scope: 'everyone' } })).toBe('unsubscribe.scope');
  });

  it('checks the schedule and date-time formats', () => {
    expect(issue({ auto_reply: { sender: 'S', message: 'm', schedule: { type: 'scheduled' } } })).toBe('auto_reply.schedule.at');
    expect(issue({ auto_reply: { sender: 'S', message: 'm', schedule: { type: 'scheduled', at: '2030-01-01T00:00:00Z' } } })).toBe('auto_reply.schedule.at');
    expect(issue({ expires_at: '31/12/2026' })).toBe('expires_at');
  });

  it('needs sms or email in a forward', () => {
    expect(issue({ forward: {} })).toBe('forward');
    expect(issue({ forward: { email: { to: ['not-an-address'] } } })).toMatch(/^forward\.email\.to/);
  });
});
