// docker-compose.yml's temporal-create-namespace job (deploy/temporal/create-namespace.sh), run
// with the `temporal` CLI against a real dev server, and against no server at all.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';
import { startTemporal, temporalCliPath } from '../helpers/temporal.js';

const SCRIPT = fileURLToPath(new URL('../../deploy/temporal/create-namespace.sh', import.meta.url));
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

function run(vars: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', [SCRIPT], {
      // The admin-tools image has `temporal` on its PATH.
      env: { PATH: `${dirname(temporalCliPath())}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '', ...vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, out });
    });
  });
}

it('creates the namespace with its retention once the server is healthy, and finds it the next time', async () => {
  const namespace = `ns-${randomBytes(4).toString('hex')}`;
  const first = await run({ TEMPORAL_ADDRESS: env.address, NAMESPACE: namespace, NAMESPACE_RETENTION: '30d', SLEEP_SECONDS: '1' });
  expect(first, first.out).toMatchObject({ code: 0 });
  expect(first.out).toContain(`${namespace} created (retention 30d)`);
  const described = await env.connection.workflowService.describeNamespace({ namespace });
  expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 24 * 3600);

  const again = await run({ TEMPORAL_ADDRESS: env.address, NAMESPACE: namespace, SLEEP_SECONDS: '1' });
  expect(again, again.out).toMatchObject({ code: 0 });
  expect(again.out).toContain(`${namespace} exists`);
});

it('fails, saying why, when the server never becomes healthy', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const res = await run({ TEMPORAL_ADDRESS: address, MAX_ATTEMPTS: '2', SLEEP_SECONDS: '0' });
  expect(res.code).toBe(1);
  expect(res.out).toContain('server not healthy yet (attempt 1/2)');
  expect(res.out).toContain(`the server at ${address} was not healthy after 2 attempts`);
});
