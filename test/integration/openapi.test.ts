import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, Harness, randomId, type Ctx } from '../helpers/harness.js';

// PostgreSQL only: the document, /docs and the answers to unknown paths and methods.
let h: Harness;
let ctx: Ctx;
let doc: any;
beforeAll(async () => {
  h = await Harness.create();
  ctx = h.context();
  doc = (await ctx.request('GET', '/openapi.json')).body;
});
afterAll(async () => {
  await h?.close();
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const operations = () =>
  Object.entries<Record<string, any>>(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ path, method, op })));

/** Every schema object in a part of the document, with where it is. */
function* schemas(node: unknown, at: string): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(node)) {
    for (const [i, x] of node.entries()) yield* schemas(x, `${at}/${i}`);
  } else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if ('type' in o || 'properties' in o || 'anyOf' in o || 'oneOf' in o || '$ref' in o) yield [at, o];
    for (const [k, v] of Object.entries(o)) yield* schemas(v, `${at}/${k}`);
  }
}

/** A schema's properties, through $ref and allOf. */
function propertiesOf(schema: any): Record<string, unknown> {
  if (schema.$ref) return propertiesOf(doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]);
  return Object.assign({}, ...(schema.allOf ?? []).map(propertiesOf), schema.properties ?? {});
}

describe('the OpenAPI document', () => {
  it('has every route the app serves, and nothing it does not', () => {
    const served = ctx.app.routes
      // the console's HTML pages (SPEC §10) are not the JSON API
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*') && !r.path.startsWith('/console'))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    expect([...new Set(served)].sort()).toEqual([...documented].sort());
  });

  it('names, files and secures every operation', () => {
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      const where = `${method} ${path}`;
      expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId), `${where}: operationId ${op.operationId} twice`).toBe(false);
      ids.add(op.operationId);
      expect(op.tags?.length, where).toBeGreaterThan(0);
      expect(op.summary, where).toEqual(expect.any(String));
      expect(Array.isArray(op.security), where).toBe(true);
      for (const requirement of op.security) {
        for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes, where).toHaveProperty(scheme);
      }
      const params = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name).sort();
      expect(params, where).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
    }
    const security = (path: string, method: string) => doc.paths[path][method].security;
    expect(security('/v1/admin/accounts', 'post')).toEqual([{ adminToken: [] }]);
    expect(security('/v1/inbound', 'post')).toEqual([{ gatewayToken: [] }]);
    expect(security('/v1/inbound', 'get')).toEqual([{ gatewayToken: [] }, { gatewayTokenQuery: [] }]);
    expect(security('/v1/{sid}/logs', 'get')).toEqual([{ apiKey: [] }]);
    expect(security('/v1/codec/ui/{capability}/decode', 'post')).toEqual([]);
    expect(security('/health', 'get')).toEqual([]);
  });

  it('gives every response a schema with its properties, and errors the one error shape', () => {
    const components = doc.components.schemas;
    expect(components.Error.properties.error.required).toEqual(['code', 'message']);
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries<any>(op.responses)) {
        const where = `${method} ${path} ${status}`;
        if (status === '204') {
          expect(response.content, where).toBeUndefined();
          continue;
        }
        expect(response.content, where).toBeDefined();
        if (Number(status) >= 400) {
          // The Error shape, or one that carries it (/ready's 503 also says which check failed).
          expect(propertiesOf(response.content['application/json'].schema).error, where).toEqual(components.Error.properties.error);
        }
        for (const [at, schema] of schemas(response.content, where)) {
          // An object schema says what it holds (properties, or the type of its values).
          if (schema.type === 'object') expect('properties' in schema || typeof schema.additionalProperties === 'object', at).toBe(true);
        }
      }
    }
    for (const [name, schema] of Object.entries<any>(components)) {
      for (const [at, s] of schemas(schema, name)) {
        if (s.type === 'object') expect('properties' in s || typeof s.additionalProperties === 'object', at).toBe(true);
      }
    }
  });

  it('types query parameters and says what a body must be', () => {
    const limit = doc.paths['/v1/{sid}/logs'].get.parameters.find((p: any) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
    const since = doc.paths['/v1/{sid}/deliveries'].get.parameters.find((p: any) => p.name === 'since');
    expect(since.schema.anyOf).toEqual(expect.arrayContaining([expect.objectContaining({ format: 'date-time' })]));
    const status = doc.paths['/v1/{sid}/messages'].get.parameters.find((p: any) => p.name === 'status');
    expect(status.schema.enum).toContain('delivered');

    const body = (path: string, method = 'post') => doc.paths[path][method].requestBody.content['application/json'].schema;
    const account = body('/v1/admin/accounts');
    expect(account.properties.country.enum).toEqual(expect.arrayContaining(['IN', 'US']));
    expect(account.properties.country.enum).not.toContain('ZZ');
    expect(account.properties.timezone.enum).toEqual(expect.arrayContaining(['UTC', 'Asia/Kolkata']));
    expect(body('/v1/{sid}/messages').properties.to.pattern).toBe('^\\+[1-9][0-9]{7,14}$');
    const enc = body('/v1/{sid}/callback/profiles').properties.enc;
    const aes256 = JSON.stringify(enc).includes('AES-256-GCM') && enc.anyOf.find((b: any) => b.properties?.algorithm?.const === 'AES-256-GCM');
    expect(aes256.properties.key.pattern).toContain('{32}');
    const config = body('/v1/{sid}/receive-configs');
    expect(JSON.stringify(config.allOf)).toContain('"anyOf"');
    const actions = config.allOf.find((r: any) => r.anyOf).anyOf.map((b: any) => b.required[0]);
    expect(actions).toEqual(expect.arrayContaining(['auto_reply', 'forward', 'trigger', 'subscribe', 'unsubscribe']));
    expect(config.properties.keyword).toMatchObject({ maxLength: 30 });
  });

  it('documents the CSV export and the idempotent 200 of a send', () => {
    expect(Object.keys(doc.paths['/v1/{sid}/subscriptions'].get.responses['200'].content)).toEqual(['application/json', 'text/csv']);
    const send = doc.paths['/v1/{sid}/messages'].post;
    expect(Object.keys(send.responses)).toEqual(expect.arrayContaining(['200', '201', '403', '409', '502', '503']));
    expect(send.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
  });
});

describe('unknown paths and methods', () => {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  it('answers a known path with another method with 405 and Allow, before any credential', async () => {
    const res = await ctx.app.request('/v1/admin/accounts', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toEqual({ error: { code: 'method_not_allowed', message: expect.stringContaining('POST') } });
    const inbound = await ctx.app.request('/v1/inbound', { method: 'PUT' });
    expect(inbound.status).toBe(405);
    expect(inbound.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    // GET /v1/admin/numbers is no /v1/{sid}/numbers: the number routes take POST and PATCH only
    const numbers = await ctx.app.request('/v1/admin/numbers', { headers: admin });
    expect(numbers.status).toBe(405);
    expect(numbers.headers.get('allow')).toBe('POST');
    const account = await ctx.app.request(`/v1/HXUS${randomId('x')}/numbers`, { method: 'DELETE' });
    expect(account.status).toBe(405);
    expect(account.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers an unknown path under the service\'s own prefixes with 404, never an api-key 401', async () => {
    for (const path of ['/v1/admin/nothing', '/v1/admin', '/v1/inbound/x', '/v1/delivery-reports/x/y', '/v1/codec', '/v1/codec/nothing']) {
      for (const headers of [{}, admin]) {
        const res = await ctx.app.request(path, { headers });
        expect(res.status, path).toBe(404);
        expect(await res.json(), path).toEqual({ error: { code: 'not_found', message: 'no such route' } });
      }
    }
    expect((await ctx.app.request(`/v1/HXUS${randomId('x')}/nothing`)).status).toBe(404);
    expect((await ctx.app.request('/nothing')).status).toBe(404);
  });

  it('answers a known path with a trailing slash with 404, never a 405 naming its own method', async () => {
    for (const [path, method] of [['/v1/admin/accounts/', 'POST'], ['/v1/admin/gateways/', 'GET'], ['/health/', 'GET'], [`/v1/HXUS${randomId('x')}/numbers/`, 'GET']] as const) {
      const res = await ctx.app.request(path, { method, headers: admin });
      expect(res.status, path).toBe(404);
      expect(res.headers.get('allow'), path).toBeNull();
    }
  });

  it('still reads a JSON body sent without a JSON content type, as curl -d sends it', async () => {
    const res = await ctx.app.request('/v1/admin/accounts', {
      method: 'POST', headers: { ...admin, 'content-type': 'application/x-www-form-urlencoded' }, body: JSON.stringify({ name: 'Curl', country: 'US' }),
    });
    expect(res.status).toBe(201);
  });
});

describe('/docs', () => {
  it('serves Swagger UI over /openapi.json from the installed package, without a CDN', async () => {
    const page = await ctx.app.request('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js', '/docs/init.js']);
    for (const asset of assets) {
      const res = await ctx.app.request(asset);
      expect(res.status, asset).toBe(200);
      expect((await res.text()).length, asset).toBeGreaterThan(100);
    }
    const init = await (await ctx.app.request('/docs/init.js')).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });
});
