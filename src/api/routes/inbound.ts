import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { ingest, inboundInputSchema, type Ingestion } from '../../ingest/ingest.js';
import { gatewayGuard, type GatewayEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { body, errors, json, Routes } from '../openapi.js';

const ingestResult = z
  .object({
    id: z.string().openapi({ description: "the message's id: the carrier's, or gw:<gateway id>:<carrier id> for a gateway other than the default" }),
    outcome: z.enum(['keyword', 'expired', 'default', 'standard', 'no_match', 'unknown_number']),
    config_id: z.uuid().nullable(),
    workflow_id: z.string().nullable().openapi({ description: 'mo-<id>, the run; null when nothing is to run' }),
  })
  .openapi('IngestResult');

const notAllowed = { 403: 'number_not_allowed: the gateway is limited to other numbers (field recipient)' };

/** The carrier / SMSC side: one MO per request, 202 once it is stored (SPEC §5, §6). */
export function inboundRoutes(deps: AppDeps & { ingestion: Ingestion }) {
  const app = new OpenAPIHono<GatewayEnv>();
  const { ingestion } = deps;
  // The starter yields to requests being answered: a burst is acknowledged before its runs
  // start. Only authenticated ones count, so nobody without a token can hold runs back.
  const counted: MiddlewareHandler<GatewayEnv> = async (_c, next) => {
    ingestion.load.enter();
    try {
      await next();
    } finally {
      ingestion.load.leave();
    }
  };
  // Each gateway's carrier ids are its own (SPEC §3.6), and a gateway limited to some numbers
  // delivers to those only.
  const byHeader = new Routes<GatewayEnv>(gatewayGuard(deps.tokens, ingestion.gateways));
  byHeader.add(createRoute({
    method: 'post', path: '/', operationId: 'ingestMessage', tags: ['carrier'],
    summary: "Ingest one MO message; 202 once stored. A carrier id is unique per gateway: another gateway's id is stored as gw:<gateway id>:<carrier id>",
    middleware: counted,
    request: { body: body(inboundInputSchema) },
    responses: { 202: json(ingestResult, 'Stored (or a retry of a stored one, answered as the first)'), ...errors(notAllowed) },
  }), async (c, valid) => {
    const input = await valid.json();
    const { result } = await ingest(ingestion, input, { gateway: c.get('gateway') });
    return c.json(result, 202);
  });

  // Gateways that can only call a GET URL may put the token in ?token= instead of a header;
  // a POST must use the header, so credentials stay out of URLs where they can.
  const byUrl = new Routes<GatewayEnv>(gatewayGuard(deps.tokens, ingestion.gateways, { queryParam: 'token' }));
  byUrl.add(createRoute({
    method: 'get', path: '/', operationId: 'ingestMessageByUrl', tags: ['carrier'],
    summary: 'Ingest one MO message from query parameters (the token may be given as ?token=)',
    middleware: counted,
    // The same fields as the POST body; `token` is the credential, not a field.
    request: { query: inboundInputSchema },
    responses: { 202: json(ingestResult, 'Stored'), ...errors(notAllowed) },
  }), async (c, valid) => {
    const { result } = await ingest(ingestion, valid.query(), { gateway: c.get('gateway') });
    return c.json(result, 202);
  });

  app.route('/', byHeader.app);
  app.route('/', byUrl.app);
  return app;
}
