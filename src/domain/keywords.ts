/** Keywords compare case-insensitively, after trimming and collapsing white space (SPEC §2). */
export function normalizeKeyword(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toUpperCase();
}

/** Message words, split on any white space (SPEC §3 step 2). */
export function tokenize(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === '' ? [] : trimmed.split(/\s+/);
}

export const KEYWORD_MAX_LENGTH = 30;

/** Returns a problem with the keyword, or null when it is acceptable. */
export function keywordProblem(raw: string): string | null {
  const k = normalizeKeyword(raw);
  if (k === '') return 'must not be empty';
  if (k.length > KEYWORD_MAX_LENGTH) return `must be at most ${KEYWORD_MAX_LENGTH} characters`;
  if (/[<>]/.test(k)) return 'must not contain < or >';
  return null;
}

export type TemplateSpec = { keywordWords: number; names: string[] };

const PLACEHOLDER = /^<([a-z_][a-z0-9_]*)>$/i;

/** Variable names a template may not redefine, because SPEC §4 already gives them a meaning. */
export const RESERVED_VARIABLES = new Set([
  'source', 'recipient', 'message', 'keyword', 'id', 'kid', 'operator', 'circle',
  'timestamp', 'description', 'status', 'status_trace', 'parts',
]);

/**
 * Parses a template such as `JOIN <name> <city>`: it must start with the keyword's words,
 * followed only by named placeholders. Returns the placeholder names or a problem.
 */
export function parseTemplate(template: string, keyword: string): { spec: TemplateSpec } | { problem: string } {
  const words = tokenize(template);
  const keywordWords = tokenize(normalizeKeyword(keyword));
  for (let i = 0; i < keywordWords.length; i++) {
    if ((words[i] ?? '').toUpperCase() !== keywordWords[i]) return { problem: 'must start with the keyword' };
  }
  const names: string[] = [];
  for (const word of words.slice(keywordWords.length)) {
    const m = PLACEHOLDER.exec(word);
    if (!m) return { problem: `"${word}" is not a placeholder like <name>` };
    const name = m[1]!.toLowerCase();
    if (RESERVED_VARIABLES.has(name)) return { problem: `<${name}> is a built-in variable` };
    if (names.includes(name)) return { problem: `<${name}> appears twice` };
    names.push(name);
  }
  if (names.length === 0) return { problem: 'must name at least one part after the keyword, like <name>' };
  return { spec: { keywordWords: keywordWords.length, names } };
}

/**
 * Binds the words after the matched keyword to the template's names. The last name takes the
 * rest of the message ("JOIN Priya New Delhi" → city = "New Delhi"); missing words bind to "".
 */
export function bindTemplate(names: string[], wordsAfterKeyword: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  names.forEach((name, i) => {
    const isLast = i === names.length - 1;
    out[name] = isLast ? wordsAfterKeyword.slice(i).join(' ') : (wordsAfterKeyword[i] ?? '');
  });
  return out;
}

/**
 * Whether one normalized phrase's words begin the other's ("ACME" and "ACME DEALS"): on a
 * shared short code such phrases of two accounts would let the longer one take messages
 * meant for the shorter one's account.
 */
export function phrasesOverlap(a: string, b: string): boolean {
  const [x, y] = [tokenize(a), tokenize(b)];
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  return short.every((w, i) => w === long[i]);
}
