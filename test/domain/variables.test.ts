import { describe, expect, it } from 'vitest';
import { buildVariables, defaultWebhookBody, lookupVariable, render } from '../../src/domain/variables.js';

const vars = (over: Partial<Parameters<typeof buildVariables>[0]> = {}) =>
  buildVariables({
    id: 'mo-1',
    kid: 'cfg-1',
    source: '+919812345678',
    recipient: '+919876543210',
    message: 'JOIN Priya New Delhi',
    keyword: 'JOIN',
    operator: 'JIO',
    circle: 'JIO DELHI',
    timestamp: '2026-04-17 18:35:20',
    named: { name: 'Priya', city: 'New Delhi' },
    ...over,
  });

describe('buildVariables', () => {
  it('fills the fixed values of SPEC §4 and splits the message into parts', () => {
    const v = vars();
    expect(v.description).toBe('Message has been sent');
    expect(v.status).toBe('SENT');
    expect(v.status_trace).toBe('SENT');
    expect(v.parts).toEqual(['JOIN', 'Priya', 'New', 'Delhi']);
  });

  it('gives empty strings for what a message does not carry', () => {
    const v = vars({ keyword: null, operator: null, circle: null, named: undefined });
    expect([v.keyword, v.operator, v.circle]).toEqual(['', '', '']);
    expect(v.named).toEqual({});
  });
});

describe('render in text mode', () => {
  it('replaces every built-in variable', () => {
    const out = render(
      '<source>|<recipient>|<message>|<keyword>|<id>|<kid>|<operator>|<circle>|<timestamp>|<description>|<status>|<status_trace>',
      vars(),
      'text',
    );
    expect(out).toBe(
      '+919812345678|+919876543210|JOIN Priya New Delhi|JOIN|mo-1|cfg-1|JIO|JIO DELHI|2026-04-17 18:35:20|Message has been sent|SENT|SENT',
    );
  });

  it('replaces <parts[n]>, 1-based, with "" past the end', () => {
    expect(render('<parts[1]>/<parts[2]>/<parts[4]>/<parts[5]>/<parts[0]>', vars(), 'text')).toBe('JOIN/Priya/Delhi//');
  });

  it('replaces the named parts of a template', () => {
    expect(render('Hi <name> from <city>', vars(), 'text')).toBe('Hi Priya from New Delhi');
  });

  it('reads names case-insensitively', () => {
    expect(render('<SOURCE> <Name>', vars(), 'text')).toBe('+919812345678 Priya');
  });

  it('turns unknown names into "" and leaves other text alone', () => {
    expect(render('a <sender> b <parts> c <keyword[1]> d', vars(), 'text')).toBe('a  b  c  d');
    expect(render('5 < 6 > 4 and <not a var>', vars(), 'text')).toBe('5 < 6 > 4 and <not a var>');
  });

  it('never leaks object internals through names like <constructor>', () => {
    expect(render('[<constructor>][<__proto__>][<toString>][<hasOwnProperty>][<named>]', vars(), 'text')).toBe('[][][][][]');
  });

  it('does not re-expand a value that looks like a variable', () => {
    expect(render('<message>', vars({ message: 'say <source>' }), 'text')).toBe('say <source>');
  });
});

describe('render in URL mode', () => {
  it('URL-encodes every value', () => {
    const v = vars({ message: 'offer 50% & more?', named: { name: 'A/B=C' } });
    expect(render('https://x.test/mo?from=<source>&text=<message>&p2=<parts[2]>&n=<name>', v, 'url')).toBe(
      'https://x.test/mo?from=%2B919812345678&text=offer%2050%25%20%26%20more%3F&p2=50%25&n=A%2FB%3DC',
    );
  });

  it('encodes non-ASCII text as UTF-8', () => {
    expect(render('?m=<message>', vars({ message: 'नमस्ते €' }), 'url')).toBe(`?m=${encodeURIComponent('नमस्ते €')}`);
  });
});

describe('render in JSON mode', () => {
  it('JSON-escapes values so that the template stays valid JSON', () => {
    const message = 'join "Pri\\ya"\nline2\t\u0001';
    const out = render('{"text":"<message>","who":"<parts[2]>","name":"<name>"}', vars({ message, named: { name: 'a"b' } }), 'json');
    expect(JSON.parse(out)).toEqual({ text: message, who: '"Pri\\ya"', name: 'a"b' });
  });
});

describe('render in form mode (application/x-www-form-urlencoded)', () => {
  it('form-encodes values so that a message cannot add or change fields', () => {
    const out = render('from=<source>&text=<message>&role=user', vars({ message: 'hi&role=admin&x=1 50%+ok' }), 'form');
    expect(out).toBe('from=%2B919812345678&text=hi%26role%3Dadmin%26x%3D1+50%25%2Bok&role=user');
    expect([...new URLSearchParams(out)]).toEqual([['from', '+919812345678'], ['text', 'hi&role=admin&x=1 50%+ok'], ['role', 'user']]);
  });

  it('round-trips any text, line breaks and non-ASCII included', () => {
    const message = 'नमस्ते\r\n= ; # ? / \'*-._~!()';
    expect(new URLSearchParams(render('m=<message>', vars({ message }), 'form')).get('m')).toBe(message);
  });
});

describe('lookupVariable', () => {
  it('gives undefined for names that mean nothing', () => {
    expect(lookupVariable(vars(), 'sender')).toBeUndefined();
    expect(lookupVariable(vars(), 'parts')).toBeUndefined();
    expect(lookupVariable(vars(), 'source', 1)).toBeUndefined();
    expect(lookupVariable(vars(), 'constructor')).toBeUndefined();
  });
});

describe('defaultWebhookBody (SPEC §4)', () => {
  it('carries the Kaleyra fields in order, then parts[1..n]', () => {
    const body = defaultWebhookBody(vars({ message: 'Join  Priya Delhi' }));
    expect(body).toEqual({
      source: '+919812345678',
      recipient: '+919876543210',
      description: 'Message has been sent',
      status: 'SENT',
      status_trace: 'SENT',
      id: 'mo-1',
      kid: 'cfg-1',
      message: 'Join  Priya Delhi',
      keyword: 'JOIN',
      operator: 'JIO',
      circle: 'JIO DELHI',
      timestamp: '2026-04-17 18:35:20',
      'parts[1]': 'Join',
      'parts[2]': 'Priya',
      'parts[3]': 'Delhi',
    });
    expect(Object.keys(body)).toEqual([
      'source', 'recipient', 'description', 'status', 'status_trace', 'id', 'kid', 'message', 'keyword',
      'operator', 'circle', 'timestamp', 'parts[1]', 'parts[2]', 'parts[3]',
    ]);
  });

  it('has no parts for an empty message', () => {
    expect(Object.keys(defaultWebhookBody(vars({ message: '' }))).filter((k) => k.startsWith('parts'))).toEqual([]);
  });
});
