// The compose Temporal server runs with task queue fairness (SPEC §5.2): docker-compose.yml
// points DYNAMIC_CONFIG_FILE_PATH at deploy/temporal/dynamicconfig.yaml, mounted, and that file
// turns on what `npm start`'s dev server turns on (runtime/temporal-dev.ts). No Docker here.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { expect, it } from 'vitest';
import { FAIRNESS_DYNAMIC_CONFIG } from '../../src/runtime/temporal-dev.js';

const read = async (path: string) => parse(await readFile(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8'), { merge: true });

it('gives the compose Temporal server the dev server\'s fairness settings, for the app\'s task queue', async () => {
  const compose = await read('docker-compose.yml');
  const temporal = compose.services.temporal;
  const path = temporal.environment.DYNAMIC_CONFIG_FILE_PATH as string;
  expect(temporal.volumes).toContain(`./deploy/temporal/dynamicconfig.yaml:${path}:ro`);
  const dynamic = await read('deploy/temporal/dynamicconfig.yaml');
  for (const setting of FAIRNESS_DYNAMIC_CONFIG) {
    const [key, value] = setting.split('=') as [string, string];
    expect(dynamic[key], key).toEqual([expect.objectContaining({ value: JSON.parse(value) })]);
  }
  const queue = compose.services.worker.environment.TEMPORAL_TASK_QUEUE ?? 'inbound-sms';
  expect(dynamic['matching.numTaskqueueWritePartitions'][0].constraints).toEqual({ taskQueueName: queue });
});
