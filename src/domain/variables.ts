import { tokenize } from './keywords.js';

/** Everything a message makes available to templates (SPEC §4). */
export type MessageVariables = {
  source: string;
  recipient: string;
  message: string;
  keyword: string;
  id: string;
  kid: string;
  operator: string;
  circle: string;
  timestamp: string;
  description: string;
  status: string;
  status_trace: string;
  parts: string[];
  named: Record<string, string>;
};

export type RenderMode = 'text' | 'url' | 'json' | 'form';

export function buildVariables(input: {
  id: string;
  kid: string;
  source: string;
  recipient: string;
  message: string;
  keyword: string | null;
  operator: string | null;
  circle: string | null;
  timestamp: string;
  named?: Record<string, string>;
}): MessageVariables {
  return {
    source: input.source,
    recipient: input.recipient,
    message: input.message,
    keyword: input.keyword ?? '',
    id: input.id,
    kid: input.kid,
    operator: input.operator ?? '',
    circle: input.circle ?? '',
    timestamp: input.timestamp,
    description: 'Message has been sent',
    status: 'SENT',
    status_trace: 'SENT',
    parts: tokenize(input.message),
    named: input.named ?? {},
  };
}

const VARIABLE = /<([a-z_][a-z0-9_]*)(?:\[(\d+)\])?>/gi;

/** The value of one variable, or undefined when the name means nothing here. */
export function lookupVariable(vars: MessageVariables, name: string, index?: number): string | undefined {
  const key = name.toLowerCase();
  if (key === 'parts') return index === undefined ? undefined : (vars.parts[index - 1] ?? '');
  if (index !== undefined) return undefined;
  if (Object.hasOwn(vars.named, key)) return vars.named[key];
  if (key === 'named') return undefined;
  const v = (vars as unknown as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Replaces `<name>` and `<parts[n]>` in a template. In a URL values are URL-encoded, in a
 * JSON body JSON-escaped (the template supplies the quotes), in a form body
 * (application/x-www-form-urlencoded) form-encoded, so a customer's `&admin=1` stays one
 * value. Unknown names become "", as in Kaleyra's GET example, which lists variables that an
 * incoming SMS does not have.
 */
export function render(template: string, vars: MessageVariables, mode: RenderMode): string {
  return template.replace(VARIABLE, (_all, name: string, idx: string | undefined) => {
    const value = lookupVariable(vars, name, idx === undefined ? undefined : Number(idx)) ?? '';
    if (mode === 'url') return encodeURIComponent(value);
    if (mode === 'json') return JSON.stringify(value).slice(1, -1);
    if (mode === 'form') return formEncode(value);
    return value;
  });
}

/**
 * The longest SMS text a run sends: 1,600 characters, the most gateways commonly take (eleven
 * concatenated parts of 153 GSM characters). A reply that a long MO blew past it (an MO carries
 * up to 5,000 characters and a template may repeat `<message>`) is cut, ending in "..." (GSM
 * characters: an ellipsis "…" would force the whole text into UCS-2); this also keeps a run's
 * plan well under Temporal's payload limit.
 */
export const SMS_MAX_CHARS = 1600;

export function fitSms(text: string): string {
  if (text.length <= SMS_MAX_CHARS) return text;
  const chars = Array.from(text);
  return chars.length <= SMS_MAX_CHARS ? text : chars.slice(0, SMS_MAX_CHARS - 3).join('') + '...';
}

/** A value as the WHATWG form serializer writes it: space as `+`, all but `*-._` and alphanumerics escaped. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** The default POST body of SPEC §4 (Kaleyra's incoming-SMS callback), parts[1..n] included. */
export function defaultWebhookBody(vars: MessageVariables): Record<string, string> {
  const body: Record<string, string> = {
    source: vars.source,
    recipient: vars.recipient,
    description: vars.description,
    status: vars.status,
    status_trace: vars.status_trace,
    id: vars.id,
    kid: vars.kid,
    message: vars.message,
    keyword: vars.keyword,
    operator: vars.operator,
    circle: vars.circle,
    timestamp: vars.timestamp,
  };
  vars.parts.forEach((p, i) => {
    body[`parts[${i + 1}]`] = p;
  });
  return body;
}
