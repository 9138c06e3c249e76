import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { formatInZone } from '../../src/domain/time.js';
import { createMailer } from '../../src/outbound/mailer.js';
import { createSmsProvider } from '../../src/outbound/sms-providers.js';
import { startTemporalDevServer, type DevServer } from '../../src/runtime/temporal-dev.js';
import { createWorker } from '../../src/worker/worker.js';
import { stateQuery } from '../../src/workflows/definitions.js';
import { Harness, randomId } from '../helpers/harness.js';
import { freePort } from '../helpers/net.js';
import { Receiver } from '../helpers/http.js';
import { temporalCliPath, workflowBundle } from '../helpers/temporal.js';

let dataDir: string;
let h: Harness;
let sms: Receiver;
let server: DevServer | null = null;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'inbound-sms-restart-'));
  sms = await new Receiver().start();
});
afterAll(async () => {
  await server?.stop();
  await sms?.close();
  await h?.close();
  await rm(dataDir, { recursive: true, force: true });
});

it('keeps a scheduled reply through a restart of the worker and of the Temporal dev server', async () => {
  // Another test file's server may take a port between freePort() and the bind: try fresh ones.
  let serverConfig = loadConfig({});
  for (let attempt = 1; !server; attempt++) {
    serverConfig = loadConfig({
      DATA_DIR: dataDir, TEMPORAL_CLI_PATH: temporalCliPath(),
      TEMPORAL_DEV_PORT: String(await freePort()), TEMPORAL_DEV_UI_PORT: String(await freePort()),
    });
    try {
      server = await startTemporalDevServer(serverConfig, (l) => console.error(`[temporal] ${l}`));
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
  h = await Harness.create(null, server.address);
  const ctx = h.context({ SMS_PROVIDER: 'http', SMS_HTTP_URL: sms.url('/sms') });
  const deps = { sql: h.sql, config: ctx.config, sms: createSmsProvider(ctx.config), mailer: createMailer(ctx.config) };
  const runWorker = async <T>(fn: () => Promise<T>): Promise<T> => {
    const connection = await NativeConnection.connect({ address: server!.address });
    try {
      const worker = await createWorker({ connection, namespace: 'default', taskQueue: ctx.config.temporal.taskQueue, deps, workflowBundle: await workflowBundle() });
      return await worker.runUntil(fn);
    } finally {
      await connection.close();
    }
  };

  const a = await ctx.account({ senders: ['BRAND'] });
  // Bundled before the time is chosen: the first worker's start must not eat into the wait.
  await workflowBundle();
  const at = formatInZone(new Date(Date.now() + 12_000), 'UTC');
  await a.config({ keyword: 'SOON', auto_reply: { sender: 'BRAND', message: 'survived', schedule: { type: 'scheduled', at } } });
  const id = randomId();
  expect((await a.send('soon', { id })).status).toBe(202);

  // The first worker starts the run and stops once the workflow itself waits on its timer.
  await runWorker(async () => {
    await ctx.starter.drain();
    const handle = ctx.client.workflow.getHandle(`mo-${id}`);
    for (let i = 0; i < 100; i++) {
      const state = await handle.query(stateQuery).catch(() => null);
      if (state?.phase === 'waiting' && state.actions.auto_reply === 'scheduled') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the run never waited on its timer');
  });

  // Temporal itself goes down and comes back from its database file.
  await server.stop();
  server = await startTemporalDevServer(serverConfig, (l) => console.error(`[temporal] ${l}`));
  expect(sms.to('/sms')).toHaveLength(0);

  // A new worker picks the run up; the timer fires at its time, once.
  const state = await runWorker(() => ctx.result(`mo-${id}`));
  expect(state.actions.auto_reply).toBe('succeeded');
  const reqs = sms.to('/sms');
  expect(reqs).toHaveLength(1);
  expect(JSON.parse(reqs[0]!.body).body).toBe('survived');
  expect(formatInZone(new Date(reqs[0]!.at), 'UTC') >= at).toBe(true);
});
