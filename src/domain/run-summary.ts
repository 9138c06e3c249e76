/**
 * What the Temporal UI shows of a message's run: a one-line summary of the run, so that the
 * workflow list reads like an MO log, and one of each activity ("webhook → example.com").
 * Pure, and free of Node imports: workflow code builds the activities' summaries in its sandbox.
 *
 * Summaries name the keyword, our number, the outcome, sender IDs and webhook hosts; a number
 * of a customer's only as its last digits (`maskNumber`); never a message's text, a URL's path
 * or query, an email address.
 */

/** The outcomes a run is started for (SPEC §3). */
export type RunOutcome = 'keyword' | 'expired' | 'default' | 'standard';

const SEP = ' · ';

/**
 * A phone number as summaries show it: "…" and its last 4 digits ("+919812345678" →
 * "…5678"), never more than half of its digits (a 5-digit short code shows 2).
 */
export function maskNumber(number: string): string {
  const digits = number.replace(/\D/g, '');
  const shown = Math.min(4, Math.floor(digits.length / 2));
  return `…${shown > 0 ? digits.slice(-shown) : ''}`;
}

/**
 * The run's summary, in plain text: keyword, customer (masked), our number, outcome.
 * "OFFER · …5678 → +15555550100 · keyword"; a run with no keyword (`default`) shows "(no keyword)".
 */
export function runSummary(m: { keyword: string | null; source: string; recipient: string; outcome: string }): string {
  return [m.keyword ?? '(no keyword)', `${maskNumber(m.source)} → ${m.recipient}`, m.outcome].join(SEP);
}

/** The same summary with another outcome (the run found the keyword expired, say). */
export function withOutcome(summary: string, outcome: string): string {
  const at = summary.lastIndexOf(SEP);
  return at < 0 ? summary : `${summary.slice(0, at)}${SEP}${outcome}`;
}

/**
 * Temporal renders summaries as one line of markdown: characters that would format are
 * escaped, so a keyword such as `*WIN*` shows as written.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]<>~|]/g, '\\$&')
    .replace(/^[#+-]/, '\\$&')
    .replace(/^(\d+)\./, '$1\\.');
}

/**
 * The host a webhook goes to ("https://user:pw@hooks.example.com:8443/mo?k=1" →
 * "hooks.example.com:8443"): no credentials, path or query, which may carry secrets. Read
 * by the WHATWG URL parser (the workflow sandbox has it), as the request itself reads it: a
 * raw `@` in a password or a `\@` trick names the host the request really goes to.
 */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || '(no host)';
  } catch {
    return '(no host)';
  }
}

/** Summaries of the activities a run schedules, as the UI shows them beside each one. */
export const activitySummary = {
  startRun: () => 'prepare run and make first attempts',
  webhook: (url: string) => escapeMarkdown(`webhook → ${hostOf(url)}`),
  sms: (a: { type: 'auto_reply' | 'expiry_message' | 'forward_sms'; sender: string; to: string }) =>
    escapeMarkdown(
      a.type === 'auto_reply' ? `auto reply via ${a.sender}`
        : a.type === 'expiry_message' ? `expiry message via ${a.sender}`
          : `forward SMS to ${maskNumber(a.to)} via ${a.sender}`,
    ),
  email: (to: readonly string[]) => `email forward to ${to.length} ${to.length === 1 ? 'address' : 'addresses'}`,
  subscription: (c: { kind: 'subscribe' } | { kind: 'unsubscribe'; scope: 'all' } | { kind: 'unsubscribe'; scope: 'configured'; senders: string[] }) =>
    escapeMarkdown(c.kind === 'subscribe' ? 'opt in' : c.scope === 'all' ? 'opt out of all senders' : `opt out of ${c.senders.join(', ')}`),
  record: (action: string, status: string) => escapeMarkdown(`record ${action.replace(/_/g, ' ')}: ${status}`),
  recordDeliveryReport: () => 'record delivery report',
  failDelivery: () => 'record webhook failure',
  finishRun: () => 'finish run',
  loadDelivery: () => 'load delivery for replay',
} as const;
