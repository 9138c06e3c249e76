import { createRoute, z } from '@hono/zod-openapi';
import { DEFAULT_STANDARD_TEXTS, STANDARD_KEYWORDS, STANDARD_TEXT_MAX } from '../../domain/standard-keywords.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { body, json, NOT_BLANK, Routes } from '../openapi.js';

const text = (what: string) =>
  z.string().trim().min(1).max(STANDARD_TEXT_MAX).openapi({ pattern: NOT_BLANK }).nullable().optional()
    .describe(`the confirmation ${what}; null sends the default again`);

export const standardTextsInput = z
  .object({
    opt_out_text: text('STOP and its kin send'),
    opt_in_text: text('START and its kin send'),
    help_text: text('HELP and INFO send'),
  })
  .strict();

type TextsRow = { opt_out_text: string | null; opt_in_text: string | null; help_text: string | null };

const textsSchema = z.object({ opt_out_text: z.string(), opt_in_text: z.string(), help_text: z.string() });
const standardKeywordsSchema = textsSchema
  .extend({
    keywords: z.object({ opt_out: z.array(z.string()), opt_in: z.array(z.string()), help: z.array(z.string()) }),
    defaults: textsSchema,
  })
  .openapi('StandardKeywords');

/**
 * SPEC §3.7: the words every number with standard keywords on answers itself, and the
 * account's confirmation texts (each the default until the account sets its own).
 */
export function standardKeywordRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes<AppEnv>(accountGuard(sql));

  const view = (r: TextsRow) => ({
    keywords: STANDARD_KEYWORDS,
    opt_out_text: r.opt_out_text ?? DEFAULT_STANDARD_TEXTS.opt_out,
    opt_in_text: r.opt_in_text ?? DEFAULT_STANDARD_TEXTS.opt_in,
    help_text: r.help_text ?? DEFAULT_STANDARD_TEXTS.help,
    defaults: { opt_out_text: DEFAULT_STANDARD_TEXTS.opt_out, opt_in_text: DEFAULT_STANDARD_TEXTS.opt_in, help_text: DEFAULT_STANDARD_TEXTS.help },
  });

  routes.add(createRoute({
    method: 'get', path: '/', operationId: 'getStandardKeywords', tags: ['subscriptions'],
    summary: "The standard keywords and the account's confirmation texts (each the default until set)",
    responses: { 200: json(standardKeywordsSchema, 'The words and texts') },
  }), async (c) => {
    const { sid } = c.get('account');
    const [row] = await sql<TextsRow[]>`SELECT opt_out_text, opt_in_text, help_text FROM accounts WHERE sid = ${sid}`;
    return c.json(view(row!));
  });

  /** Partial: a field left out stays as it is. */
  routes.add(createRoute({
    method: 'patch', path: '/', operationId: 'setStandardTexts', tags: ['subscriptions'],
    summary: 'Set confirmation texts; null sends the default again',
    request: { body: body(standardTextsInput) },
    responses: { 200: json(standardKeywordsSchema, 'The words and texts') },
  }), async (c, valid) => {
    const { sid } = c.get('account');
    const input = await valid.json();
    const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    const [row] = Object.keys(changes).length > 0
      ? await sql<TextsRow[]>`UPDATE accounts SET ${sql(changes)} WHERE sid = ${sid} RETURNING opt_out_text, opt_in_text, help_text`
      : await sql<TextsRow[]>`SELECT opt_out_text, opt_in_text, help_text FROM accounts WHERE sid = ${sid}`;
    return c.json(view(row!));
  });

  return routes.app;
}
