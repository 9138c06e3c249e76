import { describe, expect, it } from 'vitest';
import { activitySummary, escapeMarkdown, hostOf, maskNumber, runSummary, withOutcome } from '../../src/domain/run-summary.js';

describe('maskNumber', () => {
  it('keeps only the last 4 digits of a phone number', () => {
    expect(maskNumber('+919812345678')).toBe('…5678');
    expect(maskNumber('+1 (555) 123-4567')).toBe('…4567');
    expect(maskNumber('9812345678')).toBe('…5678');
  });

  it('never shows more than half of the digits', () => {
    expect(maskNumber('56789')).toBe('…89');
    expect(maskNumber('1234567')).toBe('…567');
    expect(maskNumber('1')).toBe('…');
    expect(maskNumber('BRAND')).toBe('…');
  });
});

describe('runSummary', () => {
  it('reads like a line of an MO log: keyword, customer (masked), our number, outcome', () => {
    expect(runSummary({ keyword: 'OFFER', source: '+919812345678', recipient: '+15555550100', outcome: 'keyword' })).toBe('OFFER · …5678 → +15555550100 · keyword');
    expect(runSummary({ keyword: 'STOP', source: '+15551234567', recipient: '56789', outcome: 'standard' })).toBe('STOP · …4567 → 56789 · standard');
  });

  it('says when no keyword matched (the default configuration)', () => {
    expect(runSummary({ keyword: null, source: '+919812345678', recipient: '+15555550100', outcome: 'default' })).toBe('(no keyword) · …5678 → +15555550100 · default');
  });

  it('never holds the whole customer number', () => {
    const s = runSummary({ keyword: 'GET OFFER', source: '+919812345678', recipient: '+15555550100', outcome: 'expired' });
    expect(s).not.toContain('9812345678');
    expect(s).not.toContain('12345678');
  });
});

describe('withOutcome', () => {
  it('replaces the outcome and keeps the rest', () => {
    expect(withOutcome('OFFER · …5678 → +15555550100 · keyword', 'expired')).toBe('OFFER · …5678 → +15555550100 · expired');
    expect(withOutcome('GET · OFFER · …5678 → 56789 · keyword', 'expired')).toBe('GET · OFFER · …5678 → 56789 · expired');
  });

  it('leaves a text that is no summary as it is', () => {
    expect(withOutcome('something else', 'expired')).toBe('something else');
  });
});

describe('escapeMarkdown', () => {
  it('escapes what would format in a line of markdown', () => {
    expect(escapeMarkdown('*WIN* _now_ [x](y) `c` <b> ~s~ a|b \\')).toBe('\\*WIN\\* \\_now\\_ \\[x\\](y) \\`c\\` \\<b\\> \\~s\\~ a\\|b \\\\');
  });

  it('escapes a heading, list or numbered-list start, and leaves the rest', () => {
    expect(escapeMarkdown('# 1')).toBe('\\# 1');
    expect(escapeMarkdown('- x')).toBe('\\- x');
    expect(escapeMarkdown('+1555 → x')).toBe('\\+1555 → x');
    expect(escapeMarkdown('2. WIN')).toBe('2\\. WIN');
    expect(escapeMarkdown('OFFER · …5678 → +15555550100 · keyword')).toBe('OFFER · …5678 → +15555550100 · keyword');
  });
});

describe('hostOf', () => {
  it('keeps the host and port, and drops credentials, path and query', () => {
    expect(hostOf('https://user:secret@hooks.example.com:8443/mo/token123?key=abc#x')).toBe('hooks.example.com:8443');
    expect(hostOf('http://127.0.0.1:4000/mo')).toBe('127.0.0.1:4000');
    expect(hostOf('https://[::1]:8080/x')).toBe('[::1]:8080');
    expect(hostOf('HTTPS://Example.COM')).toBe('example.com');
    // as the request reads them: a raw @ in a password, a backslash before @
    expect(hostOf('https://user:p@ss@hooks.example.com/x')).toBe('hooks.example.com');
    expect(hostOf('https://hooks.example.com\\@evil.com/')).toBe('hooks.example.com');
  });

  it('says so when there is no host to show', () => {
    expect(hostOf('not a url')).toBe('(no host)');
    expect(hostOf('mailto:someone')).toBe('(no host)');
  });
});

describe('activitySummary', () => {
  it('names each action as an operator would', () => {
    expect(activitySummary.webhook('https://hooks.example.com/mo?token=s3cret')).toBe('webhook → hooks.example.com');
    expect(activitySummary.sms({ type: 'auto_reply', sender: 'KLRHXA', to: '+919812345678' })).toBe('auto reply via KLRHXA');
    expect(activitySummary.sms({ type: 'expiry_message', sender: 'KLRHXA', to: '+919812345678' })).toBe('expiry message via KLRHXA');
    expect(activitySummary.sms({ type: 'forward_sms', sender: 'KLRHXA', to: '+919800001234' })).toBe('forward SMS to …1234 via KLRHXA');
    expect(activitySummary.email(['sales@example.com'])).toBe('email forward to 1 address');
    expect(activitySummary.email(['a@example.com', 'b@example.com'])).toBe('email forward to 2 addresses');
    expect(activitySummary.subscription({ kind: 'subscribe' })).toBe('opt in');
    expect(activitySummary.subscription({ kind: 'unsubscribe', scope: 'all' })).toBe('opt out of all senders');
    expect(activitySummary.subscription({ kind: 'unsubscribe', scope: 'configured', senders: ['KLRHXA', 'PROMO'] })).toBe('opt out of KLRHXA, PROMO');
    expect(activitySummary.record('auto_reply', 'scheduled')).toBe('record auto reply: scheduled');
  });

  it('holds no email address, customer number or URL secret', () => {
    const all = [
      activitySummary.email(['sales@example.com']),
      activitySummary.sms({ type: 'forward_sms', sender: 'S', to: '+919800001234' }),
      activitySummary.sms({ type: 'auto_reply', sender: 'S', to: '+919812345678' }),
      activitySummary.webhook('https://u:pw@h.example/p?token=s3cret'),
    ].join('\n');
    for (const secret of ['sales@', '9800001234', '9812345678', 's3cret', 'pw', '/p']) expect(all).not.toContain(secret);
  });
});
