import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ValidationError } from '../domain/errors.js';
import { requireAccount, type AppEnv } from './auth.js';
import type { AppDeps } from './deps.js';
import { ApiError, errorResponse } from './errors.js';
import { openApiDocument } from './openapi.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { callbackRoutes } from './routes/callback-profiles.js';
import { codecRoutes } from './routes/codec.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { deliveryReportRoutes } from './routes/delivery-reports.js';
import { createIngestion } from '../ingest/ingest.js';
import { gatewayRoutes } from './routes/gateways.js';
import { inboundRoutes } from './routes/inbound.js';
import { logRoutes } from './routes/logs.js';
import { messageRoutes } from './routes/messages.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { receiveConfigRoutes } from './routes/receive-configs.js';
import { standardKeywordRoutes } from './routes/standard-keywords.js';
import { smppConnectionRoutes } from './routes/smpp-connections.js';

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const document = openApiDocument();

  // PostgreSQL text cannot hold U+0000; a path parameter carrying one is a 400, not a 500.
  app.use('*', async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (/%00/.test(path) || path.includes('\u0000')) throw new ValidationError('path', 'must not contain NUL characters');
    await next();
  });
  // Every body is bounded (BODY_LIMIT_BYTES): a larger one is a 413 before it is read whole.
  app.use(
    '*',
    bodyLimit({
      maxSize: deps.config.bodyLimitBytes,
      onError: (c) => errorResponse(new ApiError(413, 'too_large', `the body is larger than ${deps.config.bodyLimitBytes} bytes`, 'body'), c),
    }),
  );
  app.get('/health', (c) => c.json({ ok: true }));
  app.get('/openapi.json', (c) => c.json(document));
  const ingestion = deps.ingestion ?? createIngestion(deps);
  // Routing changes made through this process are seen by its very next MO; other processes
  // hear of them through PostgreSQL (RoutingCache.listen).
  const routingWrites = async (c: { req: { method: string }; res: Response }, next: () => Promise<void>) => {
    await next();
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.res.status < 400) ingestion.routing.invalidate();
  };
  app.use('/v1/admin/*', routingWrites);
  app.use('/v1/:sid/receive-configs/*', routingWrites);
  app.use('/v1/:sid/receive-configs', routingWrites);
  app.route('/v1/admin/smpp-connections', smppConnectionRoutes(deps));
  app.route('/v1/admin/gateways', gatewayRoutes({ ...deps, ingestion }));
  app.route('/v1/admin', adminRoutes(deps));
  app.route('/v1/inbound', inboundRoutes({ ...deps, ingestion }));
  app.route('/v1/delivery-reports', deliveryReportRoutes({ ...deps, ingestion }));
  app.route('/v1/codec', codecRoutes(deps));

  const account = new Hono<AppEnv>();
  account.use('*', requireAccount(deps.sql));
  account.route('/', accountRoutes(deps));
  account.route('/callback', callbackRoutes(deps));
  account.route('/deliveries', deliveryRoutes(deps));
  account.route('/receive-configs', receiveConfigRoutes(deps));
  account.route('/logs', logRoutes(deps));
  account.route('/messages', messageRoutes(deps));
  account.route('/subscriptions', subscriptionRoutes(deps));
  account.route('/standard-keywords', standardKeywordRoutes(deps));
  app.route('/v1/:sid', account);

  app.notFound((c) => errorResponse(new ApiError(404, 'not_found', 'no such route'), c));
  app.onError(errorResponse);
  return app;
}
