import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { healthRoutes } from '../api/routes/health.js';
import { metricsRoutes } from '../api/routes/metrics.js';
import { errorResponse } from '../api/errors.js';
import type { ReadinessCheck } from '../runtime/readiness.js';

export type HealthServer = { port: number; name: string; stop: () => Promise<void> };

/**
 * `npm run worker`'s own HTTP port (WORKER_HEALTH_PORT): the API's `/health` and `/ready`,
 * the worker's readiness adding its own state, and `/metrics` (the activities' counts and the
 * Temporal SDK's; METRICS_TOKEN as on the API). Other operational routes go on `app` here.
 */
export async function startHealthServer(opts: {
  port: number;
  host: string;
  ready: ReadinessCheck;
  metrics?: Parameters<typeof metricsRoutes>[0];
}): Promise<HealthServer> {
  const app = new Hono();
  app.route('/', healthRoutes(opts.ready));
  if (opts.metrics) app.route('/', metricsRoutes(opts.metrics));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: 'no such route' } }, 404));
  // A wrong METRICS_TOKEN is a 401 in the API's error shape, not a 500.
  app.onError((err, c) => errorResponse(err, c, opts.metrics?.log));
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, () => resolve(s));
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`WORKER_HEALTH_PORT ${opts.port} is taken`) : e),
    );
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    name: 'health server',
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Before the worker's connection closes: see ReadinessCheck.
      await opts.ready.drain();
    },
  };
}
