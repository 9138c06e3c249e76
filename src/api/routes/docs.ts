import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createRoute, z } from '@hono/zod-openapi';
import { Routes } from '../openapi.js';

/**
 * `/openapi.json` and `/docs`: Swagger UI over the document, from the `swagger-ui-dist`
 * package installed with the service, so the page needs no CDN and works offline. Its
 * validator badge (which would send the document to validator.swagger.io) is off.
 */
const assetDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const cache = new Map<string, string>();
const asset = (name: string) => {
  let text = cache.get(name);
  if (text === undefined) cache.set(name, (text = readFileSync(join(assetDir, name), 'utf8')));
  return text;
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Inbound SMS keyword engine: API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  validatorUrl: null,
  deepLinking: true,
  persistAuthorization: false,
});
`;

const text = (type: string, description: string) => ({ description, content: { [type]: { schema: z.string() } } });

export function docsRoutes(document: () => unknown) {
  const routes = new Routes(null);
  routes.add(createRoute({
    method: 'get', path: '/openapi.json', operationId: 'openApiDocument', tags: ['service'],
    summary: 'This OpenAPI 3.1 document, generated from the route definitions',
    responses: {
      200: {
        description: 'The document',
        content: { 'application/json': { schema: z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string() }), paths: z.record(z.string(), z.unknown()) }) } },
      },
    },
  }), (c) => c.json(document() as Record<string, unknown>));
  routes.add(createRoute({
    method: 'get', path: '/docs', operationId: 'apiDocs', tags: ['service'],
    summary: 'Interactive API documentation (Swagger UI) over /openapi.json',
    responses: { 200: text('text/html', 'The page') },
  }), (c) => c.html(PAGE));
  const files = [
    ['swagger-ui.css', 'text/css', 'swaggerUiCss'],
    ['swagger-ui-bundle.js', 'text/javascript', 'swaggerUiBundle'],
  ] as const;
  for (const [name, type, operationId] of files) {
    routes.add(createRoute({
      method: 'get', path: `/docs/${name}`, operationId, tags: ['service'], summary: `Swagger UI's ${name}, as installed with the service`,
      responses: { 200: text(type, name) },
    }), (c) => c.body(asset(name), 200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'public, max-age=3600' }));
  }
  routes.add(createRoute({
    method: 'get', path: '/docs/init.js', operationId: 'swaggerUiInit', tags: ['service'], summary: 'Starts Swagger UI on /openapi.json',
    responses: { 200: text('text/javascript', 'The script') },
  }), (c) => c.body(INIT, 200, { 'content-type': 'text/javascript; charset=utf-8' }));
  return routes.app;
}
