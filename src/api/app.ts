import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { ValidationError } from '../domain/errors.js';
import { createReadiness } from '../runtime/readiness.js';
import { CONSOLE_ACCOUNT, type AppEnv } from './auth.js';
import { consoleRoutes } from '../console/app.js';
import type { AppDeps } from './deps.js';
import { ApiError, errorResponse } from './errors.js';
import { fallback, RESERVED_PREFIXES } from './fallback.js';
import { openApiDocument } from './openapi.js';
import { ClientLimits } from './limits.js';
import { honoPath, noStore, SECRET_ANSWERS } from './no-store.js';
import { accountRoutes } from './routes/account.js';
import { adminAccountRoutes } from './routes/admin-accounts.js';
import { adminRoutes } from './routes/admin.js';
import { adminSenderIdRoutes } from './routes/admin-sender-ids.js';
import { callbackRoutes } from './routes/callback-profiles.js';
import { codecRoutes } from './routes/codec.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { deliveryReportRoutes } from './routes/delivery-reports.js';
import { docsRoutes } from './routes/docs.js';
import { createIngestion } from '../ingest/ingest.js';
import { gatewayRoutes } from './routes/gateways.js';
import { healthRoutes } from './routes/health.js';
import { inboundRoutes } from './routes/inbound.js';
import { logRoutes } from './routes/logs.js';
import { messageRoutes } from './routes/messages.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { receiveConfigRoutes } from './routes/receive-configs.js';
import { sessionRoutes } from './routes/sessions.js';
import { standardKeywordRoutes } from './routes/standard-keywords.js';
import { smppConnectionRoutes } from './routes/smpp-connections.js';
import { metricsRoutes } from './routes/metrics.js';
import { observeRequests } from './observe.js';
import { silentLog } from '../runtime/logger.js';
import { settleUnreadBody } from './unread-body.js';

export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<AppEnv>();
  // Generated from the routes' own definitions (openapi.ts), once they are all added.
  let document: ReturnType<typeof openApiDocument> | null = null;

  // Outermost: an answer given before the body was read whole still leaves the client's
  // keep-alive connection usable (api/unread-body.ts).
  app.use('*', settleUnreadBody());
  // Then: a request id on every line the request logs, its access line and the HTTP metrics.
  const log = deps.log ?? silentLog;
  app.use('*', ...observeRequests(log));
  // Failed credentials and console sign-ins per client address (SPEC §5.2): the guards ask it.
  const limits = new ClientLimits(deps.config.throttle);
  app.use('*', async (c, next) => {
    c.set('limits', limits);
    await next();
  });
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
  // Answers that carry a secret are never cached (api/no-store.ts).
  for (const [method, path] of SECRET_ANSWERS) app.use(honoPath(path), noStore(method));
  // Probes: no credential. `/ready` checks PostgreSQL, Temporal and the migrations.
  app.route('/', healthRoutes(deps.ready ?? createReadiness({ sql: deps.sql, temporal: deps.temporal.connection, namespace: deps.config.temporal.namespace, log: deps.log })));
  app.route('/', metricsRoutes({ ...deps, log }));
  app.route('/', docsRoutes(() => (document ??= openApiDocument(app))));
  const ingestion = deps.ingestion ?? createIngestion(deps);
  // Routing changes made through this process are seen by its very next MO; other processes
  // hear of them through PostgreSQL (RoutingCache.listen).
  const routingWrites = async (c: { req: { method: string; path: string }; res: Response }, next: () => Promise<void>) => {
    await next();
    // A dry run (a POST) changes nothing: it keeps the cache.
    const writes = c.req.method !== 'GET' && c.req.method !== 'HEAD' && !c.req.path.endsWith('/dry-run');
    if (writes && c.res.status < 400) ingestion.routing.invalidate();
  };
  app.use('/v1/admin/*', routingWrites);
  app.use('/v1/:sid/receive-configs/*', routingWrites);
  app.use('/v1/:sid/receive-configs', routingWrites);
  app.route('/v1/admin/smpp-connections', smppConnectionRoutes(deps));
  app.route('/v1/admin/gateways', gatewayRoutes({ ...deps, ingestion }));
  app.route('/v1/admin/accounts', adminAccountRoutes(deps));
  app.route('/v1/admin/sender-ids', adminSenderIdRoutes(deps));
  app.route('/v1/admin', adminRoutes(deps));
  app.route('/v1/inbound', inboundRoutes({ ...deps, ingestion }));
  app.route('/v1/delivery-reports', deliveryReportRoutes({ ...deps, ingestion }));
  app.route('/v1/codec', codecRoutes(deps));
  // An unknown path or method under the service's own prefixes is a 404 or 405 here: it never
  // falls through to /v1/{sid} (whose routes would ask for an api-key).
  const notFound = fallback(app);
  for (const prefix of RESERVED_PREFIXES) {
    app.all(`/v1/${prefix}`, notFound);
    app.all(`/v1/${prefix}/*`, notFound);
  }

  // Each account route checks the api-key itself (accountGuard), so an unknown one is a 404.
  const account = new OpenAPIHono<AppEnv>();
  account.route('/', accountRoutes(deps));
  account.route('/callback', callbackRoutes(deps));
  account.route('/deliveries', deliveryRoutes(deps));
  account.route('/receive-configs', receiveConfigRoutes(deps));
  account.route('/logs', logRoutes(deps));
  account.route('/messages', messageRoutes(deps));
  account.route('/subscriptions', subscriptionRoutes(deps));
  account.route('/standard-keywords', standardKeywordRoutes(deps));
  account.route('/sessions', sessionRoutes(deps));
  app.route('/v1/:sid', account);

  // The console (SPEC §10) reads and writes through the routes above, in-process, as the
  // signed-in account: what it refuses and why is the API's own answer.
  app.route('/console', consoleRoutes(deps, async (sid, method, path, body) => {
    const init: RequestInit = { method, headers: body === undefined ? {} : { 'content-type': 'application/json' } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await app.request(`/v1/${encodeURIComponent(sid)}${path}`, init, { [CONSOLE_ACCOUNT]: sid });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (the CSV export): the text is the answer
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  }));

  app.notFound(notFound);
  app.onError((err, c) => errorResponse(err, c, log));
  return app;
}
