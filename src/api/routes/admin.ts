import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { ValidationError } from '../../domain/errors.js';
import { normalizeNumber, numberKindProblem } from '../../domain/phone.js';
import { ALL_STANDARD_KEYWORDS } from '../../domain/standard-keywords.js';
import { isValidTimeZone } from '../../domain/time.js';
import { hashKey, requireBearer } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { ApiError, notFound, parseJson } from '../errors.js';

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
/** ICU knows the assigned ISO 3166 codes; an unassigned one (ZZ, QQ) names no region. */
function isCountry(code: string): boolean {
  const name = regionNames.of(code);
  return name !== undefined && name !== code && name !== 'Unknown Region';
}

export const accountInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166 two-letter country code')
      .transform((s) => s.toUpperCase())
      .refine(isCountry, 'is not an ISO 3166 country code'),
    timezone: z.string().refine(isValidTimeZone, 'must be an IANA time zone, like Asia/Kolkata').default('UTC'),
  })
  .strict();

export const numberInput = z
  .object({
    number: z.string().min(1),
    kind: z.enum(['long_code', 'short_code']),
    shared: z.boolean().default(false),
    standard_keywords: z.boolean().default(true).describe('STOP, START, HELP and their kin answered before any configuration (SPEC §3.7)'),
  })
  .strict();

export const numberPatchInput = z.object({ standard_keywords: z.boolean() }).strict();

export const assignInput = z.object({ sid: z.string().min(1) }).strict();

export function adminRoutes(deps: AppDeps) {
  const { sql } = deps;
  const app = new Hono();
  app.use('*', requireBearer(deps.tokens.admin, 'operator'));

  app.post('/accounts', async (c) => {
    const input = await parseJson(c, accountInput);
    const sid = `HX${input.country}${randomBytes(6).toString('hex').toUpperCase()}`;
    const apiKey = `A${randomBytes(24).toString('hex')}`;
    const [row] = await sql`
      INSERT INTO accounts (sid, name, country, timezone, api_key_hash)
      VALUES (${sid}, ${input.name}, ${input.country}, ${input.timezone}, ${hashKey(apiKey)})
      RETURNING sid, name, country, timezone, created_at`;
    // The key is shown once; only its hash is kept.
    return c.json({ ...row, api_key: apiKey }, 201);
  });

  app.post('/numbers', async (c) => {
    const input = await parseJson(c, numberInput);
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

  app.patch('/numbers/:number', async (c) => {
    const number = normalizeNumber(c.req.param('number'));
    const input = await parseJson(c, numberPatchInput);
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

  app.post('/numbers/:number/accounts', async (c) => {
    const number = normalizeNumber(c.req.param('number')); // Hono has decoded it already
    const input = await parseJson(c, assignInput);
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

  return app;
}
