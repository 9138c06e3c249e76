import { Hono, type MiddlewareHandler } from 'hono';
import { ingest, inboundInputSchema, type Ingestion } from '../../ingest/ingest.js';
import { requireGateway, type GatewayEnv } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { fromZod, parseJson, rejectNul } from '../errors.js';

/** The carrier / SMSC side: one MO per request, 202 once it is stored (SPEC §5, §6). */
export function inboundRoutes(deps: AppDeps & { ingestion: Ingestion }) {
  const app = new Hono<GatewayEnv>();
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
  app.post('/', requireGateway(deps.tokens, ingestion.gateways), counted, async (c) => {
    const input = await parseJson(c, inboundInputSchema);
    const { result } = await ingest(ingestion, input, { gateway: c.get('gateway') });
    return c.json(result, 202);
  });

  // Gateways that can only call a GET URL may put the token in ?token= instead of a header;
  // a POST must use the header, so credentials stay out of URLs where they can.
  app.get('/', requireGateway(deps.tokens, ingestion.gateways, { queryParam: 'token' }), counted, async (c) => {
    const { token: _token, ...query } = c.req.query();
    rejectNul(query);
    const parsed = inboundInputSchema.safeParse(query);
    if (!parsed.success) throw fromZod(parsed.error);
    const { result } = await ingest(ingestion, parsed.data, { gateway: c.get('gateway') });
    return c.json(result, 202);
  });

  return app;
}
