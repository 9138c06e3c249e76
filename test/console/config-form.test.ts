import { describe, expect, it } from 'vitest';
import { configFromForm, formFromConfig, inputForField, toApiDateTime } from '../../src/console/config-form.js';
import { receiveConfigInputSchema } from '../../src/domain/receive-config.js';

describe('the configuration form ↔ the API body', () => {
  it('sends only the sections whose toggle is on, with the API\'s field names', () => {
    const body = configFromForm({
      number: '+919876543210', keyword: ' offer ', aliases: 'DEAL, OFFERS',
      auto_reply: 'on', 'auto_reply.sender': 'ACMEIN', 'auto_reply.message': 'Hi', 'auto_reply.route': 'TXN', 'auto_reply.template_id': '',
      'auto_reply.schedule.type': 'scheduled', 'auto_reply.schedule.at': '2030-01-02T03:04',
      // a section's fields without its toggle are not sent
      'forward.sms.to': '+919812345678',
      trigger: 'on', 'trigger.kind': 'profile', 'trigger.callback_profile_id': 'p1', 'trigger.url': 'https://ignored.example',
      unsubscribe: 'on', 'unsubscribe.scope': 'configured', 'unsubscribe.senders': ['ACMEIN', 'ACMEOT'],
    });
    expect(body).toEqual({
      number: '+919876543210', default: false, keyword: 'offer', aliases: ['DEAL', 'OFFERS'],
      auto_reply: { sender: 'ACMEIN', message: 'Hi', route: 'TXN', schedule: { type: 'scheduled', at: '2030-01-02 03:04:00' } },
      trigger: { callback_profile_id: 'p1' },
      unsubscribe: { scope: 'configured', senders: ['ACMEIN', 'ACMEOT'] },
    });
  });

  it('sends no keyword for the default configuration', () => {
    expect(configFromForm({ number: '+1', default: 'on', keyword: 'X', subscribe: 'on' })).toEqual({ number: '+1', default: true, subscribe: true });
  });

  it('reads a stored configuration back into the same form', () => {
    const stored = {
      number: '+1', default: false, keyword: 'JOIN', aliases: ['J'], template: 'JOIN <name>', expires_at: '2030-01-01 00:00:00',
      expiry_message: null, auto_reply: { sender: 'S', message: 'm', route: null, template_id: null, schedule: { type: 'instant' } },
      forward: { sms: null, email: { to: ['a@example.com', 'b@example.com'] } }, trigger: { url: 'https://x.example/mo', method: 'POST', body: null, content_type: null },
      subscribe: true, unsubscribe: { scope: 'all' },
    };
    expect(configFromForm(formFromConfig(stored))).toEqual({
      number: '+1', default: false, keyword: 'JOIN', aliases: ['J'], template: 'JOIN <name>', expires_at: '2030-01-01 00:00:00',
      auto_reply: { sender: 'S', message: 'm', schedule: { type: 'instant' } },
      forward: { email: { to: ['a@example.com', 'b@example.com'] } },
      trigger: { url: 'https://x.example/mo', method: 'POST' },
      subscribe: true, unsubscribe: { scope: 'all' },
    });
  });

  it('keeps every field of a configuration through Edit, so Save without a change changes nothing', () => {
    const stored = {
      number: '+919876543210', default: false, keyword: 'JOIN', aliases: ['J'], template: 'JOIN <name>', expires_at: '2030-01-01 00:00:00',
      expiry_message: 'over', expiry_sender: 'ACMEIN', expiry_route: 'TXN', expiry_template_id: '123',
      auto_reply: { sender: 'S', message: 'm', route: 'TXN', template_id: '7', schedule: { type: 'scheduled', at: '2030-01-02 03:04:05' } },
      forward: { sms: { to: '+919812345678', sender: 'S', route: 'MKT', template_id: '8' }, email: { to: ['a@example.com'] } },
      trigger: { url: 'https://x.example/mo', method: 'POST', body: '{}', content_type: 'application/json' },
      subscribe: true, unsubscribe: { scope: 'configured', senders: ['S'] },
    };
    // Every field the API takes is in this configuration: a field added to the API and not to
    // the form fails here rather than being dropped by the console's PUT.
    expect(Object.keys(stored).sort()).toEqual(Object.keys(receiveConfigInputSchema.shape).sort());
    expect(configFromForm(formFromConfig(stored))).toEqual(stored);
  });

  it('puts an error beside its input, or the nearest section the form has', () => {
    const inputs = new Set(['keyword', 'forward', 'forward.email.to', 'auto_reply']);
    expect(inputForField('keyword', inputs)).toBe('keyword');
    expect(inputForField('forward.email.to.1', inputs)).toBe('forward.email.to');
    expect(inputForField('auto_reply.schedule', inputs)).toBe('auto_reply');
    expect(inputForField('body', inputs)).toBeNull();
    expect(inputForField(undefined, inputs)).toBeNull();
  });

  it('turns a datetime-local value into the API\'s date-time', () => {
    expect(toApiDateTime('2030-01-02T03:04')).toBe('2030-01-02 03:04:00');
    expect(toApiDateTime('2030-01-02T03:04:05')).toBe('2030-01-02 03:04:05');
  });
});
