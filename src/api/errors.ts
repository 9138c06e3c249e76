import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { ValidationError } from '../domain/errors.js';
import { serializeError, type Log } from '../runtime/logger.js';

/** An error the API answers with as it is: status, code, message and, where known, the field. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** headers the answer carries (a 429's Retry-After) */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

/** The first problem of a zod failure, as a ValidationError naming the field (dotted path). */
export function fromZod(error: z.ZodError, prefix = ''): ValidationError {
  const issue = error.issues[0]!;
  let path = issue.path.map(String);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0]!];
    message = 'is not a known field';
  } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    message = 'is required';
  }
  const field = [prefix, ...path].filter(Boolean).join('.') || 'body';
  return new ValidationError(field, message);
}

/** How deeply a JSON body may nest; no route takes anything near it. */
export const MAX_JSON_DEPTH = 32;

/**
 * PostgreSQL text cannot hold U+0000: a NUL anywhere in the input is a 400 naming the field,
 * never a failed write (and never a carrier retrying an MO that can never be stored). A body
 * nested deeper than MAX_JSON_DEPTH is a 400 too. Walked without recursion, so no input can
 * exhaust the stack.
 */
export function rejectNul(value: unknown): void {
  const stack: { v: unknown; path: string[] }[] = [{ v: value, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) throw new ValidationError(path.join('.') || 'body', 'must not contain NUL characters');
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= MAX_JSON_DEPTH) throw new ValidationError('body', `must not nest deeper than ${MAX_JSON_DEPTH} levels`);
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    for (const [k, x] of entries) stack.push({ v: x, path: [...path, k] });
  }
}

export async function parseJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ValidationError('body', 'must be a JSON object');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('body', 'must be a JSON object');
  rejectNul(body);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const query = c.req.query();
  rejectNul(query);
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

type ErrorBody = { error: { code: string; message: string; field?: string } };

/**
 * One JSON shape for every error (SPEC §6). An unexpected one is logged through `log` (its
 * type, message and stack only: no query parameters), on the request's scope, so its line
 * carries the request id.
 */
export function errorResponse(err: Error, c: Context, log?: Log): Response {
  const body = (code: string, message: string, field?: string): ErrorBody => ({ error: { code, message, ...(field ? { field } : {}) } });
  if (err instanceof ValidationError) {
    return c.json(body(err.code, `${err.field} ${err.message}`, err.field), err.status as ContentfulStatusCode);
  }
  if (err instanceof ApiError) return c.json(body(err.code, err.message, err.field), err.status, err.headers);
  if (err instanceof HTTPException) return c.json(body('http_error', err.message || 'request refused'), err.status as ContentfulStatusCode);
  if (log) log(`unhandled error: ${err.message}`, { level: 'error', err });
  else console.error(serializeError(err));
  return c.json(body('internal', 'internal error'), 500);
}
