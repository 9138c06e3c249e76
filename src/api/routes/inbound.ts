import { Hono, type MiddlewareHandler } from 'hono';
import { ingest, inboundInputSchema, type Ingestion } from '../../ingest/ingest.js';
import { requireBearer } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { fromZod, parseJson, rejectNul } from '../errors.js';

/** The carrier / SMSC side: one MO per request, 202 once it is stored (SPEC §5, §6). */
export function inboundRoutes(deps: AppDeps & { ingestion: Ingestion }) {
  const app = new Hono();
  const { ingestion } = deps;
  // The starter yields to requests being answered: a burst is acknowledged before its runs
  // start. Only authenticated ones count, so nobody without a token can hold runs back.
  const counted: MiddlewareHandler = async (_c, next) => {
    ingestion.load.enter();
    try {
      await next();
    } finally {
      ingestion.load.leave();
    }
  };
  app.post('/', requireBearer(deps.tokens.ingest, 'ingest'), counted, async (c) => {
    const input = await parseJson(c, inboundInputSchema);
    const { result } = await ingest(ingestion, input);
    return c.json(result, 202);
  });

  // Gateways that can only call a GET URL may put the token in ?token= instead of a header;
  // a POST must use the header, so credentials stay out of URLs where they can.
  app.get('/', requireBearer(deps.tokens.ingest, 'ingest', { queryParam: 'token' }), counted, async (c) => {
    const { token: _token, ...query } = c.req.query();
    rejectNul(query);
    const parsed = inboundInputSchema.safeParse(query);
    if (!parsed.success) throw fromZod(parsed.error);
    const { result } = await ingest(ingestion, parsed.data);
    return c.json(result, 202);
  });

  return app;
}
