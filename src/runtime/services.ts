import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createApp } from '../api/app.js';
import { loadConfig, loadDotEnv, type Config } from '../config.js';
import { migrate } from '../db/migrate.js';
import { sealStoredSecrets } from '../db/seal-secrets.js';
import type { Sql } from '../db/sql.js';
import { startDispatcher } from '../ingest/dispatcher.js';
import { createIngestion } from '../ingest/ingest.js';
import { requireKeyring } from '../domain/keyring.js';
import { createMailer } from '../outbound/mailer.js';
import { createSmsProvider } from '../outbound/sms-providers.js';
import { startSmppBinds } from '../smpp/binds.js';
import { createWorker } from '../worker/worker.js';
import { lineLog, processLogger, type Log } from './logger.js';
import { createSms } from './sms.js';
import { resolveDatabase } from './database.js';
import { resolveKeys } from './keys.js';
import { createReadiness } from './readiness.js';
import { temporalDataConverter } from './payload-codec.js';
import { ensureRetentionSchedule, type Temporal } from './temporal.js';
import { installTemporalRuntime } from './temporal-runtime.js';
import { stopOnSignals, stopParts, type Stoppable } from './shutdown.js';
import type { Tokens } from './tokens.js';

export type { Stoppable };

/**
 * What every entry point does first: read `.env` and the configuration, stop the parts it
 * starts on SIGINT / SIGTERM (in reverse order), open PostgreSQL and apply the migrations.
 */
export async function bootstrap(name: string, opts: { localStack?: boolean } = {}) {
  loadDotEnv();
  let config: Config;
  try {
    config = loadConfig(process.env, opts);
  } catch (err) {
    // No LOG_LEVEL to go by yet: the reason still goes out as a JSON line.
    lineLog(await processLogger('info', name))(err instanceof Error ? err.message : String(err), { level: 'fatal' });
    process.exit(1);
  }
  // One logger for the whole process (JSON lines; readable in a terminal), LOG_LEVEL.
  const log = lineLog(await processLogger(config.logLevel, name));
  const parts: Stoppable[] = [];
  stopOnSignals(parts, log, config.shutdownTimeoutMs);
  try {
    await resolveKeys(config, { localStack: opts.localStack, log });
    const db = await resolveDatabase(config, log);
    parts.push({ name: db.embedded ? 'embedded PostgreSQL' : 'PostgreSQL pool', stop: db.close });
    const applied = await migrate(db.sql);
    if (applied.length) log(`migrations applied: ${applied.join(', ')}`);
    // Secrets stored in clear by an older version, or sealed with a key since rotated.
    const sealed = await sealStoredSecrets(db.sql, config.keys.secrets!, log);
    if (sealed) log(`secrets sealed with SECRETS_KEY ${config.keys.secrets!.current.id}: ${sealed} row(s)`);
    return { config, log, parts, db };
  } catch (err) {
    return failStartup(parts, log, err, config.shutdownTimeoutMs);
  }
}

/** A start that failed half way: says why, stops what did start (an embedded PostgreSQL, a dev server), exits 1. */
export async function failStartup(parts: Stoppable[], log: Log, err: unknown, timeoutMs = 30_000): Promise<never> {
  log(err instanceof Error ? err.message : String(err), { level: 'fatal' });
  await stopParts(parts, log, timeoutMs);
  process.exit(1);
}

/** TEMPORAL_ADDRESS, else the local dev server's address. */
export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
}

/** The HTTP API plus the dispatcher that starts stored messages' runs, and the SMPP binds this process holds. */
export async function startApi(opts: {
  config: Config;
  sql: Sql;
  temporal: Temporal;
  tokens: Tokens;
  log: Log;
  /** the state of a worker in this process (`npm start`): `/ready` then answers for it too */
  workerState?: () => string;
}): Promise<Stoppable & { port: number }> {
  const { config, sql, temporal, tokens, log, workerState } = opts;
  const ingestion = createIngestion({ sql, temporal: temporal.client, config, log, eagerStart: temporal.eagerStart });
  await ingestion.routing.listen();
  await ingestion.gateways.listen();
  // SMPP binds (SPEC §8) run in every API process; a lease per connection lets one bind it.
  const smpp = startSmppBinds({ sql, ingestion, secrets: requireKeyring(config.keys.secrets, 'SECRETS_KEY'), log, temporal: temporal.client });
  const sms = createSms(config, { sql, ingestion, temporal: temporal.client, log });
  const ready = createReadiness({
    sql,
    temporal: temporal.connection,
    namespace: config.temporal.namespace,
    log,
    // Under `npm start` a stopped worker means stored MOs that nothing runs: not ready.
    ...(workerState ? { extra: { worker: () => (workerState() === 'RUNNING' ? { ok: true as const } : { ok: false as const, error: `state ${workerState()}` }) } } : {}),
  });
  const app = createApp({ sql, temporal: temporal.client, config, tokens, sms, log, ingestion, smpp, ready });
  const dispatcher = startDispatcher({ sql, starter: ingestion.starter, dispatchIntervalMs: config.dispatchIntervalMs, log });
  const server = await new Promise<ReturnType<typeof serve>>((res) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => res(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    port,
    name: 'API',
    stop: async () => {
      await new Promise<void>((res) => server.close(() => res()));
      // Before the Temporal connection closes (the next part): see ReadinessCheck.
      await ready.drain();
      await smpp.stop();
      await sms.close?.();
      await dispatcher.stop();
      await ingestion.starter.drain();
      await ingestion.routing.close();
      await ingestion.gateways.close();
    },
  };
}

export async function startWorker(opts: { config: Config; sql: Sql; address: string; log: Log }): Promise<Stoppable & { connection: NativeConnection; state: () => string }> {
  // Before the first native object: the SDK logs through ours and exports its metrics.
  installTemporalRuntime(opts.config, opts.log);
  const connection = await NativeConnection.connect({ address: opts.address });
  const mailer = createMailer(opts.config);
  const client = new Client({ connection, namespace: opts.config.temporal.namespace, dataConverter: temporalDataConverter(opts.config.keys.payload) });
  // SMS_PROVIDER=smpp binds from here too: MOs the SMSC delivers on that bind are ingested here.
  const ingestion = opts.config.sms.provider === 'smpp' ? createIngestion({ sql: opts.sql, temporal: client, config: opts.config, log: opts.log }) : null;
  await ingestion?.routing.listen();
  await ingestion?.gateways.listen();
  const sms = ingestion ? createSms(opts.config, { sql: opts.sql, ingestion, temporal: client, log: opts.log }) : createSmsProvider(opts.config);
  const worker = await createWorker({
    connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.config.temporal.taskQueue,
    deps: { sql: opts.sql, config: opts.config, sms, mailer },
    log: opts.log,
  });
  const running = worker.run();
  running.catch((e) => opts.log(`worker stopped: ${String(e)}`, { level: 'error', err: e }));
  // Retention runs on a Temporal schedule, never on a timer in a process (SPEC §9).
  await ensureRetentionSchedule(client, opts.config).catch((e) =>
    opts.log(`retention schedule not set up: ${String(e)}`, { level: 'warn' }),
  );
  return {
    connection,
    name: 'worker',
    /** the SDK worker's state: RUNNING while it polls (the worker's `/ready`) */
    state: () => worker.getState(),
    stop: async () => {
      // The SDK also stops workers on SIGINT/SIGTERM by itself; shut down only a running one.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => {});
      await sms.close?.();
      await ingestion?.starter.drain();
      await ingestion?.routing.close();
      await ingestion?.gateways.close();
      await connection.close();
      mailer.close();
    },
  };
}
