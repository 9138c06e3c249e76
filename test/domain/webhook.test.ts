import { describe, expect, it } from 'vitest';
import { buildVariables } from '../../src/domain/variables.js';
import { fromZod } from '../../src/api/errors.js';
import { receiveConfigInputSchema } from '../../src/domain/receive-config.js';
import { bodyRenderMode, classifyResponse, renderWebhook, webhookAttemptClass } from '../../src/domain/webhook.js';

const input = {
  id: 'mo-1', kid: 'cfg-1', source: '+919812345678', recipient: '+919876543210', message: 'offer "50%" & more',
  keyword: 'OFFER', operator: null, circle: null, timestamp: '2026-04-17 18:35:20',
};
const vars = buildVariables(input);

describe('classifyResponse (SPEC §5)', () => {
  it('counts every 2xx as delivered', () => {
    for (const s of [200, 201, 202, 204, 299]) expect(classifyResponse(s)).toBe('delivered');
  });

  it('retries network errors and timeouts (no status), 408, 429 and 5xx', () => {
    expect(classifyResponse(null)).toBe('retry');
    for (const s of [408, 429, 500, 502, 503, 504, 599]) expect(classifyResponse(s)).toBe('retry');
  });

  it('stops at once on other 4xx', () => {
    for (const s of [400, 401, 403, 404, 405, 409, 410, 413, 422]) expect(classifyResponse(s)).toBe('reject');
  });

  it('does not count redirects or informational answers as delivered', () => {
    for (const s of [100, 301, 302, 304]) expect(classifyResponse(s)).toBe('reject');
  });
});

describe('renderWebhook', () => {
  it('POSTs the default JSON body when there is no body template', () => {
    const r = renderWebhook({ url: 'https://x.test/mo' }, vars);
    expect(r).toMatchObject({ url: 'https://x.test/mo', method: 'POST', contentType: 'application/json' });
    expect(JSON.parse(r.body!)).toMatchObject({ source: '+919812345678', message: 'offer "50%" & more', keyword: 'OFFER', 'parts[2]': '"50%"' });
  });

  it('renders a JSON body template with JSON-escaped values', () => {
    const r = renderWebhook({ url: 'https://x.test/mo', body: '{"t":"<message>"}' }, vars);
    expect(JSON.parse(r.body!)).toEqual({ t: 'offer "50%" & more' });
  });

  it('renders a non-JSON body template as plain text', () => {
    const r = renderWebhook({ url: 'https://x.test/mo', body: 'text=<message>', content_type: 'text/plain' }, vars);
    expect(r).toMatchObject({ contentType: 'text/plain', body: 'text=offer "50%" & more' });
  });

  it('form-encodes the values of a form body template, whatever the case and parameters of the type', () => {
    for (const contentType of ['application/x-www-form-urlencoded', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8']) {
      const r = renderWebhook({ url: 'https://x.test/mo', body: 'text=<message>&admin=0', content_type: contentType }, vars);
      expect(r).toMatchObject({ contentType, body: 'text=offer+%2250%25%22+%26+more&admin=0' });
      expect(Object.fromEntries(new URLSearchParams(r.body!))).toEqual({ text: 'offer "50%" & more', admin: '0' });
    }
    const injected = buildVariables({ ...input, message: 'hello&admin=1' });
    const r = renderWebhook({ url: 'https://x.test/mo', body: 'text=<message>', content_type: 'application/x-www-form-urlencoded' }, injected);
    expect([...new URLSearchParams(r.body!)]).toEqual([['text', 'hello&admin=1']]);
  });

  it('sends the default body as a form for a form content type', () => {
    const r = renderWebhook({ url: 'https://x.test/mo', content_type: 'application/x-www-form-urlencoded' }, vars);
    expect(Object.fromEntries(new URLSearchParams(r.body!))).toMatchObject({ source: '+919812345678', message: 'offer "50%" & more', 'parts[2]': '"50%"' });
  });

  it('picks the render mode from the content type', () => {
    expect(bodyRenderMode('application/json')).toBe('json');
    expect(bodyRenderMode('application/vnd.api+json; charset=utf-8')).toBe('json');
    expect(bodyRenderMode('application/x-www-form-urlencoded;charset=utf-8')).toBe('form');
    expect(bodyRenderMode('text/plain')).toBe('text');
    expect(bodyRenderMode('application/x-www-form-urlencoded-not')).toBe('text');
  });

  it('sends a GET with the values URL-encoded in the URL and no body', () => {
    const r = renderWebhook({ url: 'https://x.test/mo?m=<message>&k=<keyword>', method: 'GET' }, vars);
    expect(r).toEqual({ url: 'https://x.test/mo?m=offer%20%2250%25%22%20%26%20more&k=OFFER', method: 'GET', contentType: null, body: null });
  });

  it('URL-encodes values in a POST URL as well', () => {
    expect(renderWebhook({ url: 'https://x.test/<source>' }, vars).url).toBe('https://x.test/%2B919812345678');
  });
});

describe('inline trigger fields that could never be sent are refused at save time', () => {
  /** The field and message the API would answer with for this trigger. */
  const problem = (trigger: Record<string, unknown>) => {
    const r = receiveConfigInputSchema.safeParse({ number: '+15555550100', keyword: 'HOOK', trigger });
    if (r.success) return null;
    const e = fromZod(r.error);
    return { field: e.field, message: e.message };
  };

  it('refuses a URL with a user name or password (fetch refuses to send it)', () => {
    for (const url of ['https://user:pass@hooks.example.com/mo', 'https://user@hooks.example.com/mo', 'http://:secret@hooks.example.com/']) {
      expect(problem({ url })).toEqual({ field: 'trigger.url', message: "must not contain a user name or password (give them as a callback profile's auth)" });
    }
    expect(problem({ url: 'https://hooks.example.com/mo?to=a@b.test' })).toBeNull();
  });

  it('refuses a content type that is not a header value or not a media type', () => {
    for (const content_type of ['text/plain\r\nX-Injected: 1', 'application/json\r\n;x', 'text/plain; a=\u0000', 'text/plain\n']) {
      expect(problem({ url: 'https://x.test/mo', content_type })).toEqual({ field: 'trigger.content_type', message: 'must not contain line breaks or control characters' });
    }
    expect(problem({ url: 'https://x.test/mo', content_type: 'json' })?.field).toBe('trigger.content_type');
    expect(problem({ url: 'https://x.test/mo', content_type: 'application/x-www-form-urlencoded; charset=utf-8' })).toBeNull();
  });
});

describe('webhookAttemptClass (sms_webhook_attempts_total)', () => {
  it('classes an answer by its status, 429 apart', () => {
    for (const s of [200, 204, 299]) expect(webhookAttemptClass({ statusCode: s })).toBe('success');
    for (const s of [301, 302, 307]) expect(webhookAttemptClass({ statusCode: s })).toBe('http_3xx');
    for (const s of [400, 401, 404, 408, 410, 499]) expect(webhookAttemptClass({ statusCode: s })).toBe('http_4xx');
    expect(webhookAttemptClass({ statusCode: 429 })).toBe('http_429');
    for (const s of [500, 502, 503, 599]) expect(webhookAttemptClass({ statusCode: s })).toBe('http_5xx');
  });

  it('classes no answer by why: a timeout, a network error, a refused private address', () => {
    expect(webhookAttemptClass({ statusCode: null, timedOut: true })).toBe('timeout');
    expect(webhookAttemptClass({ statusCode: null })).toBe('network_error');
    expect(webhookAttemptClass({ statusCode: null, refused: true })).toBe('refused');
  });
});
