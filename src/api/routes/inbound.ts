import { Hono } from 'hono';
import { ingest, inboundInputSchema } from '../../ingest/ingest.js';
import type { RunStarter } from '../../ingest/starter.js';
import { requireBearer } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { fromZod, parseJson } from '../errors.js';

/** The carrier / SMSC side: one MO per request, 202 once it is stored (SPEC §5, §6). */
export function inboundRoutes(deps: AppDeps & { starter: RunStarter }) {
  const app = new Hono();
  // Gateways that can only call a GET URL may put the token in ?token= instead of a header.
  app.use('*', requireBearer(deps.tokens.ingest, 'ingest', { queryParam: 'token' }));

  app.post('/', async (c) => {
    const input = await parseJson(c, inboundInputSchema);
    const { result } = await ingest(deps, input);
    return c.json(result, 202);
  });

  app.get('/', async (c) => {
    const { token: _token, ...query } = c.req.query();
    const parsed = inboundInputSchema.safeParse(query);
    if (!parsed.success) throw fromZod(parsed.error);
    const { result } = await ingest(deps, parsed.data);
    return c.json(result, 202);
  });

  return app;
}
