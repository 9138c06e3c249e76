import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { endSessions } from '../../console/sessions.js';
import { adminGuard, hashKey } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { body, json, errors, Routes, sidParam, timestamp } from '../openapi.js';

/** A new API key: shown once, only its SHA-256 kept (accounts.api_key_hash). */
export const newApiKey = () => `A${randomBytes(24).toString('hex')}`;

export const accountPatchInput = z
  .object({
    active: z.boolean().optional().openapi({ description: 'false disables the account: its routes and console answer 403 account_disabled; its numbers still take MOs' }),
    daily_limit: z
      .number()
      .int()
      .min(0)
      .max(2_147_483_647)
      .nullable()
      .optional()
      .openapi({ description: 'SMS a UTC day through POST /v1/{sid}/messages; null: no limit' }),
  })
  .strict();

const accountView = z
  .object({
    sid: z.string(),
    name: z.string(),
    country: z.string(),
    timezone: z.string(),
    active: z.boolean(),
    daily_limit: z.number().int().nullable(),
    created_at: timestamp,
  })
  .openapi('AccountGovernance');

const sidParams = z.object({ sid: sidParam });

/** The operator's hold on an account (SPEC §5.2): its API key, whether it is active, its daily limit. */
export function adminAccountRoutes(deps: AppDeps) {
  const { sql } = deps;
  const routes = new Routes(adminGuard(deps.tokens.admin));

  routes.add(createRoute({
    method: 'post', path: '/{sid}/api-key', operationId: 'rotateApiKey', tags: ['admin'],
    summary: "Rotate an account's API key: the old one is refused at once and every console session ends",
    request: { params: sidParams },
    responses: {
      201: json(z.object({ api_key: z.string().openapi({ description: 'shown only here: only its hash is kept' }) }).openapi('ApiKey'), 'The new API key'),
      ...errors(404),
    },
  }), async (c) => {
    const sid = c.req.param('sid')!;
    const apiKey = newApiKey();
    const found = await sql.begin(async (tx) => {
      const [row] = await tx`UPDATE accounts SET api_key_hash = ${hashKey(apiKey)} WHERE sid = ${sid} RETURNING sid`;
      // Sessions were opened with the old key: they end with it.
      if (row) await endSessions(tx, sid);
      return !!row;
    });
    if (!found) throw notFound(`account ${sid}`);
    return c.json({ api_key: apiKey }, 201);
  });

  routes.add(createRoute({
    method: 'patch', path: '/{sid}', operationId: 'updateAccount', tags: ['admin'],
    summary: 'Disable or enable an account, set its daily_limit',
    request: { params: sidParams, body: body(accountPatchInput) },
    responses: { 200: json(accountView, 'The account'), ...errors(404) },
  }), async (c, valid) => {
    const sid = c.req.param('sid')!;
    const input = await valid.json();
    const [row] = await sql`
      UPDATE accounts SET
        active = ${input.active === undefined ? sql`active` : input.active},
        daily_limit = ${input.daily_limit === undefined ? sql`daily_limit` : input.daily_limit}
      WHERE sid = ${sid}
      RETURNING sid, name, country, timezone, active, daily_limit, created_at`;
    if (!row) throw notFound(`account ${sid}`);
    return c.json(row);
  });

  return routes.app;
}
