/**
 * The rules of input as JSON Schema patterns, for the OpenAPI document (api/openapi.ts): each
 * sits beside the zod schema or check that enforces it, and describes values that check takes
 * (often the canonical writing of a wider set, such as E.164 for numbers the API also takes
 * with spaces). Written for both ECMA 262 and Python regexes: digits as [0-9], white space
 * spelled out, since a pattern engine may read \d, \s or \w wider than JavaScript does.
 */

/** JavaScript's white space, which String.prototype.trim() removes. */
const JS_SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

/** A string that trim() leaves non-empty. */
export const NOT_BLANK = `[^${JS_SPACE}]`;

/** At least `n` characters once trim() has run. */
export const notBlank = (n: number) => (n <= 1 ? NOT_BLANK : `${NOT_BLANK}[\\s\\S]{${n - 2}}[\\s\\S]*${NOT_BLANK}`);

/** Numbers as they are stored: E.164 long codes; 5 or 6 digit short codes (not 00…, read as an international prefix). */
export const E164_PATTERN = '^\\+[1-9][0-9]{7,14}$';
export const SHORT_CODE_PATTERN = '^(?!00)[0-9]{5,6}$';

/**
 * `YYYY-MM-DD HH:MM:SS` that names a real time: years 1000-9999, every day that each month has
 * (29 February left out: not every year has one).
 */
export const LOCAL_DATE_TIME_PATTERN =
  '^[1-9][0-9]{3}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31) (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$';

/** A keyword or alias as written normalized: printable ASCII but < and >, single-spaced (any case is taken). */
const WORD = '[!-;=?-~]+';
export const KEYWORD_PATTERN = `^${WORD}(?: ${WORD})*$`;

/** A template: the keyword's words, then named placeholders (`JOIN <name> <city>`). */
export const TEMPLATE_PATTERN = `^${WORD}(?: ${WORD})*(?: <[A-Za-z_][A-Za-z0-9_]*>)+$`;

/** An http(s) URL without credentials. */
export const HTTP_URL_PATTERN = '^https?://[^@/?#\\s]+(?:[/?#][^\\s]*)?$';

/** A media type as a header may carry it. */
export const MEDIA_TYPE_PATTERN = '^[A-Za-z0-9_.+-]+/[A-Za-z0-9_.+-]+(?:;[\\t\\x20-\\x7e\\x80-\\xff]*)?$';
