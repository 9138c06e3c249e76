import { normalizeKeyword, tokenize } from './keywords.js';
import { standardKeyword } from './standard-keywords.js';

/** One keyword or alias of a receive configuration, as the store hands it to matching. */
export type KeywordCandidate = {
  configId: string;
  /** the normalized keyword or alias phrase, e.g. "GET OFFER" */
  phrase: string;
  /** the configuration's main keyword, reported as <keyword> */
  keyword: string;
  expiresAt: Date | null;
};

export type MatchOutcome = 'keyword' | 'expired' | 'default' | 'standard' | 'no_match' | 'unknown_number';

export type MatchResult = {
  outcome: MatchOutcome;
  configId: string | null;
  keyword: string | null;
  /** how many message words the matched phrase used */
  matchedWords: number;
};

export function isExpired(expiresAt: Date | null, at: Date): boolean {
  return expiresAt !== null && expiresAt.getTime() <= at.getTime();
}

/** The normalized first word of a message: the store's lookup key for candidates. */
export function firstWord(message: string): string | null {
  const words = tokenize(message);
  return words.length === 0 ? null : normalizeKeyword(words[0]!);
}

/**
 * SPEC §3: on a number with standard keywords on, a message that is exactly one of them is
 * `standard`, before any configuration (§3.7). Otherwise the candidate whose words are a
 * prefix of the message's words wins; a longer phrase beats a shorter one; between equally
 * long ones an active configuration beats an expired one. An expired winner yields `expired`
 * and does not fall back to the default.
 */
export function matchMessage(input: {
  message: string;
  candidates: KeywordCandidate[];
  defaultConfigId: string | null;
  receivedAt: Date;
  standardKeywords?: boolean;
}): MatchResult {
  const standard = input.standardKeywords ? standardKeyword(input.message) : null;
  if (standard) return { outcome: 'standard', configId: null, keyword: standard.word, matchedWords: 1 };
  const words = tokenize(input.message).map((w) => w.toUpperCase());
  let best: { c: KeywordCandidate; len: number; expired: boolean } | null = null;
  for (const c of input.candidates) {
    const phrase = tokenize(c.phrase);
    if (phrase.length === 0 || phrase.length > words.length) continue;
    if (!phrase.every((p, i) => p === words[i])) continue;
    const expired = isExpired(c.expiresAt, input.receivedAt);
    const better =
      best === null ||
      phrase.length > best.len ||
      (phrase.length === best.len && best.expired && !expired);
    if (better) best = { c, len: phrase.length, expired };
  }
  if (best) {
    return {
      outcome: best.expired ? 'expired' : 'keyword',
      configId: best.c.configId,
      keyword: best.c.keyword,
      matchedWords: best.len,
    };
  }
  if (input.defaultConfigId) return { outcome: 'default', configId: input.defaultConfigId, keyword: null, matchedWords: 0 };
  return { outcome: 'no_match', configId: null, keyword: null, matchedWords: 0 };
}
