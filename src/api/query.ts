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
