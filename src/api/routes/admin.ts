import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { ValidationError } from '../../domain/errors.js';
import { normalizeNumber, numberKindProblem } from '../../domain/phone.js';
import { ALL_STANDARD_KEYWORDS } from '../../domain/standard-keywords.js';
import { isValidTimeZone } from '../../domain/time.js';
import { adminGuard, hashKey } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { body, errors, json, NOT_BLANK, Routes, timestamp } from '../openapi.js';

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
/** ICU knows the assigned ISO 3166 codes; an unassigned one (ZZ, QQ) names no region. */
function isCountry(code: string): boolean {
  const name = regionNames.of(code);
  return name !== undefined && name !== code && name !== 'Unknown Region';
}
/** Every code isCountry takes, for the document (any case is taken). */
const COUNTRIES = Array.from({ length: 26 * 26 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26))).filter(isCountry);
// ICU lists some zones by their older names (Asia/Calcutta): the current ones people write are taken too.
const TIME_ZONES = [...new Set(['UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Ho_Chi_Minh', 'Europe/Kyiv', 'America/Nuuk', ...Intl.supportedValuesOf('timeZone')])].filter(isValidTimeZone);

import { E164_PATTERN, SHORT_CODE_PATTERN } from '../../domain/patterns.js';

export const accountInput = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ pattern: NOT_BLANK, example: 'Acme' }),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166 two-letter country code')
      .transform((s) => s.toUpperCase())
      .refine(isCountry, 'is not an ISO 3166 country code')
      .openapi({ enum: COUNTRIES, description: 'ISO 3166 two-letter code, any case', example: 'US' }),
    timezone: z
      .string()
      .refine(isValidTimeZone, 'must be an IANA time zone, like Asia/Kolkata')
      .default('UTC')
      .openapi({ enum: TIME_ZONES, description: 'IANA time zone (aliases such as US/Eastern are taken too)' }),
  })
  .strict();

export const numberInput = z
  .object({
    number: z.string().min(1).openapi({ description: 'E.164 for a long code, 5 or 6 digits for a short code; spaces, dashes and a 00 prefix are taken and removed' }),
    kind: z.enum(['long_code', 'short_code']),
    shared: z.boolean().default(false).openapi({ description: 'only a short code can be shared by several accounts' }),
    standard_keywords: z.boolean().default(true).describe('STOP, START, HELP and their kin answered before any configuration (SPEC §3.7)'),
  })
  .strict()
  // The rules the handler checks, as the document can say them.
  .openapi({
    anyOf: [
      { properties: { kind: { const: 'long_code' }, number: { pattern: E164_PATTERN }, shared: { const: false } } },
      { properties: { kind: { const: 'short_code' }, number: { pattern: SHORT_CODE_PATTERN } } },
    ],
  });

export const numberPatchInput = z.object({ standard_keywords: z.boolean() }).strict();

export const assignInput = z.object({ sid: z.string().min(1).openapi({ description: 'an account\'s sid' }) }).strict();

const accountCreated = z
  .object({
    sid: z.string(),
    name: z.string(),
    country: z.string(),
    timezone: z.string(),
    created_at: timestamp,
    api_key: z.string().openapi({ description: 'shown only here: only its hash is kept' }),
  })
  .openapi('AccountCreated');

const numberView = z
  .object({
    number: z.string(),
    kind: z.enum(['long_code', 'short_code']),
    shared: z.boolean(),
    standard_keywords: z.boolean(),
    created_at: timestamp,
  })
  .openapi('Number');

const numberParam = z.object({
  number: z.string().min(1).openapi({ description: 'the number, URL-encoded (%2B for +)', example: '+15555550100' }),
});

export function adminRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes(adminGuard(deps.tokens.admin));

  routes.add(createRoute({
    method: 'post', path: '/accounts', operationId: 'createAccount', tags: ['admin'],
    summary: 'Create an account; its api_key is shown once',
    request: { body: body(accountInput) },
    responses: { 201: json(accountCreated, 'The account, with its api_key') },
  }), async (c, valid) => {
    const input = await valid.json();
    const sid = `HX${input.country}${randomBytes(6).toString('hex').toUpperCase()}`;
    const apiKey = `A${randomBytes(24).toString('hex')}`;
    const [row] = await sql`
      INSERT INTO accounts (sid, name, country, timezone, api_key_hash)
      VALUES (${sid}, ${input.name}, ${input.country}, ${input.timezone}, ${hashKey(apiKey)})
      RETURNING sid, name, country, timezone, created_at`;
    // The key is shown once; only its hash is kept.
    return c.json({ ...row, api_key: apiKey }, 201);
  });

  routes.add(createRoute({
    method: 'post', path: '/numbers', operationId: 'createNumber', tags: ['admin'],
    summary: 'Create a number (long code, short code, shared short code)',
    request: { body: body(numberInput) },
    responses: { 201: json(numberView, 'The number'), ...errors({ 409: 'conflict: the number exists already' }) },
  }), async (c, valid) => {
    const input = await valid.json();
    const number = normalizeNumber(input.number);
    const problem = numberKindProblem(number, input.kind);
    if (problem) throw new ValidationError('number', problem);
    if (input.shared && input.kind !== 'short_code') throw new ValidationError('shared', 'only a short code can be shared');
    const [row] = await sql`
      INSERT INTO numbers (number, kind, shared, standard_keywords) VALUES (${number}, ${input.kind}, ${input.shared}, ${input.standard_keywords})
      ON CONFLICT (number) DO NOTHING RETURNING number, kind, shared, standard_keywords, created_at`;
    if (!row) throw new ApiError(409, 'conflict', `number ${number} exists already`, 'number');
    return c.json(row, 201);
  });

  routes.add(createRoute({
    method: 'patch', path: '/numbers/{number}', operationId: 'updateNumber', tags: ['admin'],
    summary: 'Turn standard keywords (STOP, START, HELP, …) on or off for a number',
    request: { params: numberParam, body: body(numberPatchInput) },
    responses: {
      200: json(numberView, 'The number'),
      ...errors(404, { 409: 'reserved_keyword: a receive configuration of the number uses a standard keyword' }),
    },
  }), async (c, valid) => {
    const number = normalizeNumber(c.req.param('number')!);
    const input = await valid.json();
    const row = await sql.begin(async (tx) => {
      // The lock receive configurations are saved under: none can take a standard word meanwhile.
      await tx`SELECT pg_advisory_xact_lock(hashtext(${'receive-config:' + number}))`;
      if (input.standard_keywords) {
        const [held] = await tx<{ phrase: string; config_id: string }[]>`
          SELECT phrase, config_id FROM config_keywords
          WHERE number = ${number} AND phrase IN ${tx([...ALL_STANDARD_KEYWORDS])} ORDER BY phrase LIMIT 1`;
        if (held) {
          throw new ApiError(409, 'reserved_keyword', `receive configuration ${held.config_id} uses "${held.phrase}", a standard keyword: change or delete it first`, 'standard_keywords');
        }
      }
      const [updated] = await tx`
        UPDATE numbers SET standard_keywords = ${input.standard_keywords} WHERE number = ${number}
        RETURNING number, kind, shared, standard_keywords, created_at`;
      return updated;
    });
    if (!row) throw notFound(`number ${number}`);
    return c.json(row);
  });

  routes.add(createRoute({
    method: 'post', path: '/numbers/{number}/accounts', operationId: 'assignNumber', tags: ['admin'],
    summary: 'Assign a number to an account (again to its owner: harmless)',
    request: { params: numberParam, body: body(assignInput) },
    responses: {
      201: json(z.object({ number: z.string(), sid: z.string(), shared: z.boolean() }).openapi('NumberAssignment'), 'The assignment'),
      ...errors(404, { 409: 'conflict: the number is dedicated to another account' }),
    },
  }), async (c, valid) => {
    const number = normalizeNumber(c.req.param('number')!); // Hono has decoded it already
    const input = await valid.json();
    const result = await sql.begin(async (tx) => {
      const [num] = await tx<{ shared: boolean }[]>`SELECT shared FROM numbers WHERE number = ${number} FOR UPDATE`;
      if (!num) throw notFound(`number ${number}`);
      const [acct] = await tx`SELECT sid FROM accounts WHERE sid = ${input.sid}`;
      if (!acct) throw new ValidationError('sid', 'is not an account');
      const owners = await tx<{ sid: string }[]>`SELECT sid FROM number_accounts WHERE number = ${number}`;
      if (!num.shared && owners.some((o) => o.sid !== input.sid)) {
        throw new ApiError(409, 'conflict', `number ${number} is dedicated to another account`, 'sid');
      }
      await tx`INSERT INTO number_accounts (number, sid) VALUES (${number}, ${input.sid}) ON CONFLICT DO NOTHING`;
      return { number, sid: input.sid, shared: num.shared };
    });
    return c.json(result, 201);
  });

  return routes.app;
}
