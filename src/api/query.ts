import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { localDateTime } from '../domain/receive-config.js';
import { parseLocalDateTime } from '../domain/time.js';

/** `limit` and `offset` of a list route: spread into its query schema. */
export function page(defaultLimit: number, maxLimit = 500) {
  return {
    limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit),
    // The bound zod's int() keeps anyway, written out so that the document says it too.
    offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  };
}

/**
 * `limit`, `offset` and `cursor` of a list that pages by keyset (issue 18): `cursor` is the
 * `next_cursor` of the page before, and the page after it costs the same however deep it is;
 * `offset` still works, and with a cursor counts from it.
 */
export function cursorPage(defaultLimit: number, maxLimit = 500) {
  return {
    ...page(defaultLimit, maxLimit),
    cursor: z.string().min(1).max(1000).optional().meta({
      description: "the previous page's next_cursor: the rows after it, in the list's order (opaque; made for this list and its filters)",
    }),
  };
}

/** The values of a cursor's sort key: a bigint id or seq, a timestamp (µs, UTC), or text. */
export type KeyPart = 'id' | 'time' | 'text';
type KeyValues<P extends readonly KeyPart[]> = { [I in keyof P]: string };

const KEY_PART: Record<KeyPart, RegExp> = {
  id: /^[0-9]{1,19}$/,
  time: /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$/,
  text: /^[^\u0000]{0,300}$/,
};

/**
 * The format a timestamp of a sort key is written in (`to_char`, UTC, microseconds): what
 * PostgreSQL stores, so that a cursor resumes exactly between two rows a microsecond apart.
 * Compare it as `${value}::text::timestamptz`: a parameter PostgreSQL types as timestamptz
 * is sent by postgres.js through a JS Date, which keeps milliseconds only.
 */
export const CURSOR_TIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/** A list's cursor: base64url of `[list, ...sort key of the last row]`. */
export function encodeCursor(list: string, key: readonly string[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString('base64url');
}

/** A cursor given back: the sort key it holds, or a 400 naming `cursor`. */
export function decodeCursor<P extends readonly KeyPart[]>(list: string, cursor: string, parts: P): KeyValues<P> {
  const bad = () => new ValidationError('cursor', `is not a cursor of this list: give next_cursor as an earlier page of ${list} answered it`);
  let value: unknown;
  try {
    value = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  } catch {
    throw bad();
  }
  if (!Array.isArray(value) || value.length !== parts.length + 1 || value[0] !== list) throw bad();
  const key = value.slice(1);
  const fits = (v: string, part: KeyPart) =>
    KEY_PART[part].test(v) && (part !== 'time' || !Number.isNaN(Date.parse(v))) && (part !== 'id' || BigInt(v) <= 9_223_372_036_854_775_807n);
  if (!key.every((v, i) => typeof v === 'string' && fits(v, parts[i]!))) throw bad();
  return key as KeyValues<P>;
}

/**
 * A page read with one row more than `limit`: the rows to answer, and the cursor after the
 * last of them when there are more (null at the end of the list).
 */
export function keysetPage<R>(rows: R[], limit: number, list: string, key: (row: R) => readonly string[]): { rows: R[]; next_cursor: string | null } {
  if (rows.length <= limit) return { rows, next_cursor: null };
  const shown = rows.slice(0, limit);
  return { rows: shown, next_cursor: encodeCursor(list, key(shown.at(-1)!)) };
}

/**
 * Ids the database keeps as uuid: anything else is a 404 before it reaches a query. No `i`
 * flag: a pattern in the OpenAPI document is written without one.
 */
export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** An instant: ISO 8601 with an offset, or `YYYY-MM-DD HH:MM:SS` on the account's clock. */
export const instant = z.union([z.iso.datetime({ offset: true }), localDateTime], {
  error: (iss) => (iss.input === undefined ? 'is required' : 'must be an ISO 8601 date-time (2026-05-01T10:00:00Z) or YYYY-MM-DD HH:MM:SS'),
});

/** An `instant` as a Date: a local one read in the account's time zone. */
export function toInstant(field: string, value: string, timezone: string): Date {
  const d = /T/.test(value) ? new Date(value) : parseLocalDateTime(value, timezone);
  if (!d || Number.isNaN(d.getTime())) throw new ValidationError(field, 'is not a real date-time');
  return d;
}
