import { createRoute, z } from '@hono/zod-openapi';
import type { Sql } from '../../db/sql.js';
import type { Log } from '../../runtime/logger.js';
import { metricsContentType, metricsText, observeStartBacklog } from '../../runtime/metrics.js';
import { requireBearer } from '../auth.js';
import { Routes, type Guard } from '../openapi.js';

/** `GET /metrics` needs `Authorization: Bearer <METRICS_TOKEN>` when that is set. */
function metricsGuard(token: string): Guard {
  return { middleware: requireBearer(token, 'METRICS_TOKEN'), security: [{ metricsToken: [] }] };
}

/**
 * `GET /metrics` (SPEC §9): Prometheus text, this process's families (docs/operations.md) and
 * the Temporal SDK's when its worker runs here. Open unless METRICS_TOKEN is set
 * (docs/decisions.md, "Logs and metrics"). The stored start backlog is read from PostgreSQL
 * at each scrape; should that fail the gauges keep their last value, and the scrape still answers.
 */
export function metricsRoutes(deps: { sql: Sql; config: { metricsToken: string | undefined }; log?: Log }) {
  const routes = new Routes(deps.config.metricsToken ? metricsGuard(deps.config.metricsToken) : null);
  routes.add(
    createRoute({
      method: 'get', path: '/metrics', operationId: 'metrics', tags: ['service'],
      summary: 'Prometheus metrics: requests, MOs, run starts, webhooks, outbox sends, and the Temporal worker\'s own',
      responses: {
        200: {
          description: 'Prometheus text exposition format 0.0.4',
          content: { 'text/plain': { schema: z.string().openapi({ example: 'sms_mo_received_total{outcome="keyword",gateway="default"} 12' }) } },
        },
      },
    }),
    async (c) => {
      await observeStartBacklog(deps.sql).catch((e) =>
        deps.log?.(`metrics: the start backlog was not read: ${e instanceof Error ? e.message : String(e)}`, { level: 'warn' }));
      return c.body(await metricsText(), 200, { 'content-type': metricsContentType });
    },
  );
  return routes.app;
}
