import { createRoute, z } from '@hono/zod-openapi';
import { endSessions } from '../../console/sessions.js';
import { accountGuard, type AppEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { json, Routes } from '../openapi.js';

/** The account's console sessions (SPEC §5.2): "sign out everywhere". */
export function sessionRoutes(deps: AppDeps) {
  const routes = new Routes<AppEnv>(accountGuard(deps.sql));

  routes.add(createRoute({
    method: 'post', path: '/revoke', operationId: 'revokeSessions', tags: ['account'],
    summary: 'Sign out everywhere: end every console session of the account',
    responses: { 200: json(z.object({ revoked: z.number().int().openapi({ description: 'how many sessions ended' }) }).openapi('RevokedSessions'), 'The sessions are ended') },
  }), async (c) => c.json({ revoked: await endSessions(deps.sql, c.get('account').sid) }));

  return routes.app;
}
