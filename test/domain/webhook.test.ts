import { describe, expect, it } from 'vitest';
import { buildVariables } from '../../src/domain/variables.js';
import { classifyResponse, renderWebhook } from '../../src/domain/webhook.js';

const vars = buildVariables({
  id: 'mo-1', kid: 'cfg-1', source: '+919812345678', recipient: '+919876543210', message: 'offer "50%" & more',
  keyword: 'OFFER', operator: null, circle: null, timestamp: '2026-04-17 18:35:20',
});

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

  it('sends a GET with the values URL-encoded in the URL and no body', () => {
    const r = renderWebhook({ url: 'https://x.test/mo?m=<message>&k=<keyword>', method: 'GET' }, vars);
    expect(r).toEqual({ url: 'https://x.test/mo?m=offer%20%2250%25%22%20%26%20more&k=OFFER', method: 'GET', contentType: null, body: null });
  });

  it('URL-encodes values in a POST URL as well', () => {
    expect(renderWebhook({ url: 'https://x.test/<source>' }, vars).url).toBe('https://x.test/%2B919812345678');
  });
});
