import { createRoute, z } from '@hono/zod-openapi';
import { readinessAnswer, type Readiness } from '../../runtime/readiness.js';
import { errorSchema, json, Routes } from '../openapi.js';

const check = z
  .object({ ok: z.boolean(), error: z.string().optional().openapi({ description: 'why not, when not ok' }) })
  .openapi('ReadinessCheck');
const readiness = z
  .object({
    ready: z.boolean(),
    checks: z.record(z.string(), check).openapi({
      description: 'postgresql, temporal, migrations (and worker, on a worker\'s own port)',
      example: { postgresql: { ok: true }, temporal: { ok: true }, migrations: { ok: true } },
    }),
  })
  .openapi('Readiness');
const notReady = readiness.extend(errorSchema.shape).openapi('NotReady');

/**
 * `/health`: the process lives (it answers). `/ready` (SPEC §9): PostgreSQL and Temporal answer
 * and the migrations are applied; 503 naming what is down. No credential: probes and load
 * balancers call them, and they show no address, URL or secret. The worker serves the same on
 * WORKER_HEALTH_PORT (worker/health-server.ts).
 */
export function healthRoutes(ready: () => Promise<Readiness>) {
  const routes = new Routes(null);
  routes.add(
    createRoute({
      method: 'get', path: '/health', operationId: 'health', tags: ['service'],
      summary: 'Liveness: the process answers',
      responses: { 200: json(z.object({ ok: z.literal(true) }).openapi('Health'), 'The process lives') },
    }),
    (c) => c.json({ ok: true as const }),
  );
  routes.add(
    createRoute({
      method: 'get', path: '/ready', operationId: 'ready', tags: ['service'],
      summary: 'Readiness: PostgreSQL and Temporal answer, migrations applied',
      responses: {
        200: json(readiness, 'Ready: every check passed'),
        503: json(notReady, 'Not ready: `error.message` names what is down (PostgreSQL, Temporal, migrations)'),
      },
    }),
    async (c) => {
      const answer = readinessAnswer(await ready());
      return c.json(answer.body, answer.status);
    },
  );
  return routes.app;
}
