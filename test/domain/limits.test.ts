import { describe, expect, it } from 'vitest';
import { renderTrigger } from '../../src/activities/trigger.js';
import { callbackProfileInputSchema } from '../../src/domain/callback-profile.js';
import { buildVariables, fitSms, render, SMS_MAX_CHARS } from '../../src/domain/variables.js';
import { oversizedWebhook, WEBHOOK_BODY_MAX_BYTES } from '../../src/domain/webhook.js';

// An MO as long as ingest takes (5,000 characters).
const vars = buildVariables({
  id: 'm1', kid: 'k1', source: '+919812345678', recipient: '+919900000000', message: 'x'.repeat(5000),
  keyword: 'BIG', operator: null, circle: null, timestamp: '2026-11-30 10:00:00',
});

describe('what a run renders stays bounded, whatever the MO', () => {
  it('cuts an SMS past 1,600 characters, ending in "...", and leaves shorter ones alone', () => {
    const reply = fitSms(render('You said: <message> <message>', vars, 'text'));
    expect(Array.from(reply)).toHaveLength(SMS_MAX_CHARS);
    expect(reply.endsWith('x...')).toBe(true);
    expect(fitSms('Thanks!')).toBe('Thanks!');
    // characters, not UTF-16 units: an emoji is not split
    expect(fitSms('😀'.repeat(SMS_MAX_CHARS))).toBe('😀'.repeat(SMS_MAX_CHARS));
    expect(fitSms('😀'.repeat(SMS_MAX_CHARS + 1))).toBe('😀'.repeat(SMS_MAX_CHARS - 3) + '...');
  });

  it('skips a webhook whose rendered body or URL is over the limit, saying why', () => {
    const template = '<message>'.repeat(60); // 540 characters, under the 10,000 cap; 300,000 rendered
    const skipped = renderTrigger({ id: 'm1', sid: 's1' }, { url: 'https://hooks.example.com/mo', method: 'POST', body: template, content_type: 'text/plain' }, null, vars);
    expect(skipped).toEqual({ skip: `the rendered body is 300000 bytes, over the ${WEBHOOK_BODY_MAX_BYTES}-byte limit` });
    const url = renderTrigger({ id: 'm1', sid: 's1' }, { url: 'https://hooks.example.com/mo?m=<message>&n=<message>', method: 'GET' }, null, vars);
    expect(url).toEqual({ skip: expect.stringMatching(/^the rendered URL is 100\d\d characters, over the 8192 limit$/) });
    const fine = renderTrigger({ id: 'm1', sid: 's1' }, { url: 'https://hooks.example.com/mo', method: 'POST', body: '<message>', content_type: 'text/plain' }, null, vars);
    expect(fine).toMatchObject({ body: 'x'.repeat(5000) });
    expect(oversizedWebhook('https://a.test/', null)).toBeNull();
  });

  it('caps a JSON body template at 10,000 characters, as a string one', () => {
    const big = Object.fromEntries(Array.from({ length: 800 }, (_, i) => [`field_${i}`, '<message>']));
    const res = callbackProfileInputSchema.safeParse({ title: 'Big body', http_method: 'POST', url: 'https://a.test/', body: big });
    expect(res.success).toBe(false);
    expect(res.error!.issues.map((i) => i.message).join()).toContain('at most 10000 characters');
  });
});
