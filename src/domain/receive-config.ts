import { z } from 'zod';
import { contentTypeSchema, webhookUrlSchema } from './callback-profile.js';
import { ValidationError } from './errors.js';
import { keywordProblem, normalizeKeyword, parseTemplate } from './keywords.js';
import { normalizeNumber } from './phone.js';
import { E164_PATTERN, HTTP_URL_PATTERN, KEYWORD_PATTERN, LOCAL_DATE_TIME_PATTERN, NOT_BLANK, TEMPLATE_PATTERN } from './patterns.js';
import { parseLocalDateTime } from './time.js';

// `.meta()` says in the OpenAPI document what a refinement or a later check enforces.
export const localDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'must be a date-time as YYYY-MM-DD HH:MM:SS')
  .meta({ pattern: LOCAL_DATE_TIME_PATTERN, description: "YYYY-MM-DD HH:MM:SS on the account's clock, a time that exists", example: '2026-05-01 10:00:00' });
export const route = z.enum(['MKT', 'TXN']);
export const templateId = z.string().regex(/^\d{1,30}$/, 'must be the digits of a DLT template id');
export const senderId = z.string().trim().min(1).max(20).meta({ pattern: NOT_BLANK, description: 'a sender ID registered to the account' });
/** E.164 only: a national form could dodge a customer's opt-out, which is kept in E.164. */
export const msisdn = z
  .string()
  .transform(normalizeNumber)
  .pipe(z.string().regex(/^\+[1-9]\d{7,14}$/, 'must be an E.164 number with its country code, like +919812345678'))
  .meta({ pattern: E164_PATTERN, description: 'E.164, with its country code (spaces and dashes are taken and removed)', example: '+919812345678' });

/**
 * India's DLT rule (SPEC §2): an SMS sent for an account registered in India names its route
 * and its registered template. Throws naming the missing field.
 */
export function requireDlt(country: string, sms: { route?: string | null; template_id?: string | null }, fields: { route: string; template_id: string }): void {
  if (country !== 'IN') return;
  if (!sms.route) throw new ValidationError(fields.route, 'is required for accounts registered in India (MKT or TXN)');
  if (!sms.template_id) throw new ValidationError(fields.template_id, 'is required for accounts registered in India (DLT template id)');
}

export const scheduleSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('instant') }).strict(),
  z.object({ type: z.literal('scheduled'), at: localDateTime.meta({ pattern: LOCAL_DATE_TIME_PATTERN, description: "when to reply, on the account's clock: now or later" }) }).strict(),
]);

export const autoReplySchema = z
  .object({
    sender: senderId,
    message: z.string().min(1).max(1600),
    route: route.nullish(),
    template_id: templateId.nullish(),
    schedule: scheduleSchema.default({ type: 'instant' }),
  })
  .strict();

const smsForwardSchema = z
  .object({ to: msisdn, sender: senderId, route: route.nullish(), template_id: templateId.nullish() })
  .strict();

// zod's own email rule, as the document's pattern (a JSON Schema `format: email` takes more).
const email = z.email().meta({ format: 'email', pattern: z.regexes.email.source });
const emailForwardSchema = z
  .object({
    to: z.union([email, z.array(email).min(1).max(20)]).transform((v) => (Array.isArray(v) ? v : [v])),
  })
  .strict();

const present = (field: string) => ({ required: [field], properties: { [field]: { type: 'object' } } });

export const forwardSchema = z
  .object({ sms: smsForwardSchema.nullish(), email: emailForwardSchema.nullish() })
  .strict()
  .refine((f) => f.sms || f.email, { message: 'must have sms, email or both' })
  .meta({ anyOf: [present('sms'), present('email')] });

/** An inline webhook or a reference to a callback profile; one object so errors name the field. */
export const triggerSchema = z
  .object({
    url: webhookUrlSchema.max(2000, 'must be at most 2000 characters').nullish(),
    method: z.enum(['POST', 'GET']).nullish(),
    body: z.string().max(10_000).nullish(),
    content_type: contentTypeSchema.nullish(),
    callback_profile_id: z.string().min(1).nullish(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.callback_profile_id) {
      for (const f of ['url', 'method', 'body', 'content_type'] as const) {
        if (t[f] != null) ctx.addIssue({ code: 'custom', path: [f], message: 'must not be given with callback_profile_id' });
      }
    } else if (!t.url) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required (or give callback_profile_id)' });
    } else if ((t.method ?? 'POST') === 'GET' && t.body != null) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'is only sent with method POST' });
    }
  })
  .meta({
    description: 'an inline webhook (url, method, body, content_type) or a callback profile of the account (callback_profile_id)',
    oneOf: [
      {
        required: ['callback_profile_id'],
        properties: { callback_profile_id: { type: 'string' }, url: { type: 'null' }, method: { type: 'null' }, body: { type: 'null' }, content_type: { type: 'null' } },
      },
      {
        required: ['url'],
        properties: { url: { type: 'string', pattern: HTTP_URL_PATTERN }, callback_profile_id: { type: 'null' } },
        if: { required: ['method'], properties: { method: { const: 'GET' } } },
        then: { properties: { body: { type: 'null' } } },
      },
    ],
  });

export const unsubscribeSchema = z.discriminatedUnion('scope', [
  z.object({ scope: z.literal('configured'), senders: z.array(senderId).min(1).max(50) }).strict(),
  z.object({ scope: z.literal('all') }).strict(),
]);

export const receiveConfigInputSchema = z
  .object({
    number: z.string().min(1).meta({ description: "one of the account's numbers" }),
    default: z.boolean().default(false),
    keyword: z.string().meta({ pattern: KEYWORD_PATTERN, maxLength: 30, description: 'compared case-insensitively, spaces collapsed; at most 30 characters, no < or >' }).nullish(),
    aliases: z
      .array(z.string().meta({ pattern: KEYWORD_PATTERN, maxLength: 30 }))
      .max(20)
      .meta({ description: 'more keywords for the same configuration, each different from the keyword and each other' })
      .nullish(),
    template: z.string().max(200).meta({ pattern: TEMPLATE_PATTERN, description: 'the keyword, then named parts: JOIN <name> <city>' }).nullish(),
    expires_at: localDateTime.nullish(),
    expiry_message: z.string().min(1).max(1600).nullish(),
    /** the expiry message's own sender, route and DLT template id (else the auto reply's sender) */
    expiry_sender: senderId.nullish(),
    expiry_route: route.nullish(),
    expiry_template_id: templateId.nullish(),
    auto_reply: autoReplySchema.nullish(),
    forward: forwardSchema.nullish(),
    trigger: triggerSchema.nullish(),
    subscribe: z.boolean().nullish(),
    unsubscribe: unsubscribeSchema.nullish(),
  })
  .strict()
  // The rules checkReceiveConfig enforces, as far as JSON Schema can say them.
  .meta({
    allOf: [
      {
        // A default configuration has no keyword, aliases, template or expiry; any other has a keyword.
        if: { required: ['default'], properties: { default: { const: true } } },
        then: { properties: { keyword: { type: 'null' }, aliases: { anyOf: [{ type: 'null' }, { maxItems: 0 }] }, template: { type: 'null' }, expires_at: { type: 'null' } } },
        else: { required: ['keyword'], properties: { keyword: { type: 'string' } } },
      },
      {
        // An expiry message needs expires_at; its sender, route and template id need the message.
        if: { required: ['expiry_message'], properties: { expiry_message: { type: 'string' } } },
        then: { required: ['expires_at'], properties: { expires_at: { type: 'string' } } },
        else: { properties: { expiry_sender: { type: 'null' }, expiry_route: { type: 'null' }, expiry_template_id: { type: 'null' } } },
      },
      {
        // subscribe and unsubscribe do not go together.
        if: { required: ['subscribe'], properties: { subscribe: { const: true } } },
        then: { properties: { unsubscribe: { type: 'null' } } },
      },
      {
        // At least one action.
        anyOf: [
          present('auto_reply'), present('forward'), present('trigger'), present('unsubscribe'),
          { required: ['subscribe'], properties: { subscribe: { const: true } } },
          { required: ['expiry_message'], properties: { expiry_message: { type: 'string' } } },
        ],
      },
    ],
    description: "India (SPEC §2): an account registered in IN names route and template_id for every SMS (auto_reply, forward.sms, the expiry message).",
  });

export type ReceiveConfigInput = z.output<typeof receiveConfigInputSchema>;
export type AutoReply = z.output<typeof autoReplySchema>;
export type Forward = z.output<typeof forwardSchema>;
export type Trigger = z.output<typeof triggerSchema>;
export type Unsubscribe = z.output<typeof unsubscribeSchema>;

/** A configuration after the domain rules: what the store keeps. */
export type ReceiveConfigRecord = {
  number: string;
  isDefault: boolean;
  keyword: string | null;
  aliases: string[];
  template: string | null;
  templateNames: string[];
  expiresAtLocal: string | null;
  expiresAt: Date | null;
  expiryMessage: string | null;
  expirySender: string | null;
  expiryRoute: string | null;
  expiryTemplateId: string | null;
  autoReply: AutoReply | null;
  /** the instant of a scheduled auto reply, resolved in the account's time zone */
  replyAt: Date | null;
  forward: Forward | null;
  trigger: Trigger | null;
  subscribe: boolean;
  unsubscribe: Unsubscribe | null;
};

/** A keyword configuration's phrases, keyword first then aliases (normalized); none for a default one. */
export function configPhrases(rec: Pick<ReceiveConfigRecord, 'keyword' | 'aliases'>): string[] {
  return rec.keyword ? [rec.keyword, ...rec.aliases] : [];
}

/** Time slack for "now" in a scheduled reply: a client's clock and the request take a moment. */
const NOW_SLACK_MS = 60_000;

/**
 * The domain rules of SPEC §2 that need no database: keyword and template form, default vs
 * keyword, at least one action, India's route and template id, schedule not in the past.
 */
export function checkReceiveConfig(
  input: ReceiveConfigInput,
  account: { country: string; timezone: string },
  now: Date,
): ReceiveConfigRecord {
  const number = normalizeNumber(input.number);
  let keyword: string | null = null;
  let aliases: string[] = [];
  let templateNames: string[] = [];
  if (input.default) {
    for (const f of ['keyword', 'aliases', 'template', 'expires_at'] as const) {
      const v = input[f];
      if (v != null && !(Array.isArray(v) && v.length === 0)) {
        throw new ValidationError(f, 'a default configuration has no keyword, aliases, template or expiry');
      }
    }
  } else {
    if (input.keyword == null) throw new ValidationError('keyword', 'is required unless default is true');
    const problem = keywordProblem(input.keyword);
    if (problem) throw new ValidationError('keyword', problem);
    keyword = normalizeKeyword(input.keyword);
    const seen = new Set([keyword]);
    (input.aliases ?? []).forEach((a, i) => {
      const p = keywordProblem(a);
      if (p) throw new ValidationError(`aliases.${i}`, p);
      const n = normalizeKeyword(a);
      if (seen.has(n)) throw new ValidationError(`aliases.${i}`, `"${n}" is given twice`);
      seen.add(n);
      aliases.push(n);
    });
    if (input.template != null) {
      const t = parseTemplate(input.template, keyword);
      if ('problem' in t) throw new ValidationError('template', t.problem);
      templateNames = t.spec.names;
    }
  }

  let expiresAt: Date | null = null;
  if (input.expires_at != null) {
    expiresAt = parseLocalDateTime(input.expires_at, account.timezone);
    if (!expiresAt) throw new ValidationError('expires_at', 'is not a real date-time');
  }
  if (input.expiry_message != null && input.expires_at == null) {
    throw new ValidationError('expiry_message', 'needs expires_at');
  }
  for (const f of ['expiry_sender', 'expiry_route', 'expiry_template_id'] as const) {
    if (input[f] != null && input.expiry_message == null) throw new ValidationError(f, 'is only used with expiry_message');
  }

  let replyAt: Date | null = null;
  const reply = input.auto_reply ?? null;
  if (reply?.schedule.type === 'scheduled') {
    replyAt = parseLocalDateTime(reply.schedule.at, account.timezone);
    if (!replyAt) throw new ValidationError('auto_reply.schedule.at', 'is not a real date-time');
    if (replyAt.getTime() < now.getTime() - NOW_SLACK_MS) {
      throw new ValidationError('auto_reply.schedule.at', 'must be now or in the future');
    }
  }

  const dltFields = (prefix: string) => ({ route: `${prefix}route`, template_id: `${prefix}template_id` });
  if (reply) requireDlt(account.country, reply, dltFields('auto_reply.'));
  if (input.forward?.sms) requireDlt(account.country, input.forward.sms, dltFields('forward.sms.'));
  // The expiry message is a text of its own: it needs its own DLT template, and a sender ID.
  if (input.expiry_message != null && account.country === 'IN') {
    if (input.expiry_sender == null && !reply) {
      throw new ValidationError('expiry_sender', 'is required for accounts registered in India (or an auto_reply whose sender it uses)');
    }
    requireDlt(account.country, { route: input.expiry_route, template_id: input.expiry_template_id }, dltFields('expiry_'));
  }

  if (input.subscribe && input.unsubscribe) {
    throw new ValidationError('unsubscribe', 'cannot be combined with subscribe');
  }
  const hasAction =
    reply != null || input.forward != null || input.trigger != null || input.subscribe === true ||
    input.unsubscribe != null || (input.expiry_message != null && expiresAt != null);
  if (!hasAction) {
    throw new ValidationError('actions', 'at least one action is required: auto_reply, forward, trigger, subscribe or unsubscribe');
  }

  return {
    number,
    isDefault: input.default,
    keyword,
    aliases,
    template: input.template ?? null,
    templateNames,
    expiresAtLocal: input.expires_at ?? null,
    expiresAt,
    expiryMessage: input.expiry_message ?? null,
    expirySender: input.expiry_sender ?? null,
    expiryRoute: input.expiry_route ?? null,
    expiryTemplateId: input.expiry_template_id ?? null,
    autoReply: reply,
    replyAt,
    forward: input.forward ?? null,
    trigger: input.trigger ?? null,
    subscribe: input.subscribe === true,
    unsubscribe: input.unsubscribe ?? null,
  };
}
