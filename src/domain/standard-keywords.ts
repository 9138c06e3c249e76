import type { SubscriptionChange } from './subscriptions.js';

/**
 * Standard keywords (SPEC §3.7), as carriers and Twilio enforce them: on a number where they
 * are on, a message that is exactly one of these words is handled before any configuration.
 */
export type StandardKind = 'opt_out' | 'opt_in' | 'help';

export const STANDARD_KEYWORDS: Readonly<Record<StandardKind, readonly string[]>> = {
  opt_out: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE'],
  opt_in: ['START', 'YES', 'UNSTOP'],
  help: ['HELP', 'INFO'],
};

const KIND_OF = new Map<string, StandardKind>(
  (Object.entries(STANDARD_KEYWORDS) as [StandardKind, readonly string[]][]).flatMap(([kind, words]) => words.map((w) => [w, kind] as const)),
);

/** Every standard word, upper-case. */
export const ALL_STANDARD_KEYWORDS: readonly string[] = [...KIND_OF.keys()];

export type StandardKeyword = { kind: StandardKind; word: string };

/**
 * The standard keyword a message is, or null: the whole message, trimmed, compared
 * case-insensitively. `STOP PLEASE` is not one (it goes through normal matching). ASCII
 * letters only, so that no Unicode case mapping can make a word of something else (`ſtop`
 * and `ınfo` upper-case to STOP and INFO).
 */
export function standardKeyword(message: string): StandardKeyword | null {
  const text = message.trim();
  if (!/^[A-Za-z]+$/.test(text)) return null;
  const word = text.toUpperCase();
  const kind = KIND_OF.get(word);
  return kind ? { kind, word } : null;
}

/**
 * Whether a receive configuration's keyword or alias (normalized: trimmed, upper-case) is a
 * standard word, which no configuration may hold on a number where they are on. A phrase
 * of several words (`STOP ALPHA`) is not: it can never be the whole of a standard message.
 */
export function isStandardKeyword(phrase: string): boolean {
  return KIND_OF.has(phrase);
}

/** How long an account's confirmation text may be: two SMS segments. */
export const STANDARD_TEXT_MAX = 320;

/** What each kind answers until the account sets its own text. */
export const DEFAULT_STANDARD_TEXTS: Readonly<Record<StandardKind, string>> = {
  opt_out: 'You have been unsubscribed and will receive no more messages from this number. Reply START to subscribe again.',
  opt_in: 'You have been subscribed again and will receive messages from this number. Reply STOP to unsubscribe.',
  help: 'Reply STOP to unsubscribe, START to subscribe again. Msg & data rates may apply.',
};

/** An account's own texts; null (or absent) stands for the default. */
export type StandardTexts = Partial<Record<StandardKind, string | null>>;

/** The confirmation a standard keyword sends: the account's text, else the default. */
export function confirmationText(kind: StandardKind, texts: StandardTexts | null): string {
  return texts?.[kind] ?? DEFAULT_STANDARD_TEXTS[kind];
}

/** The opt-in / opt-out change a standard keyword makes (a help request makes none). */
export function standardChange(kind: StandardKind): SubscriptionChange | null {
  if (kind === 'opt_out') return { kind: 'unsubscribe', scope: 'all' };
  if (kind === 'opt_in') return { kind: 'subscribe' };
  return null;
}
