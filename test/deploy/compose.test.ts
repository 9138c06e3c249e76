// docker-compose.yml itself, read as Compose reads it (YAML with its `<<` merge keys): what the
// API and the worker are given from .env. No Docker here; the jobs' scripts have tests of their own.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { beforeAll, expect, it } from 'vitest';

const COMPOSE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));
let services: Record<string, { environment?: Record<string, unknown> }>;

beforeAll(async () => {
  services = parse(await readFile(COMPOSE, 'utf8'), { merge: true }).services;
});

it('passes PUBLIC_URL from .env to the API and the worker, and refuses to start without it', () => {
  for (const name of ['api', 'worker']) {
    const value = services[name]?.environment?.PUBLIC_URL;
    // `${PUBLIC_URL:?…}`: taken from .env or the shell, and `up` stops naming it when unset.
    expect(value, name).toMatch(/^\$\{PUBLIC_URL:\?[^}]+\}$/);
  }
});

it('still gives both the settings they share, next to their own', () => {
  expect(services.api?.environment).toMatchObject({ PORT: 3000, TEMPORAL_ADDRESS: 'temporal:7233', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
  expect(services.worker?.environment).toMatchObject({ WORKER_HEALTH_PORT: 3001, TEMPORAL_ADDRESS: 'temporal:7233' });
});
