// `npm run worker`: the Temporal worker alone; scale it out by running more of these.
import { createReadiness } from '../runtime/readiness.js';
import { bootstrap, failStartup, startWorker, temporalAddress } from '../runtime/services.js';
import { startHealthServer } from './health-server.js';

const { config, log, parts, db } = await bootstrap('worker');
const address = temporalAddress(config);
try {
  const worker = await startWorker({ config, sql: db.sql, address, log });
  parts.push(worker);
  if (config.workerHealthPort) {
    const ready = createReadiness({
      sql: db.sql,
      temporal: worker.connection,
      namespace: config.temporal.namespace,
      log,
      extra: { worker: () => (worker.state() === 'RUNNING' ? { ok: true } : { ok: false, error: `state ${worker.state()}` }) },
    });
    const health = await startHealthServer({ port: config.workerHealthPort, host: config.host, ready, metrics: { sql: db.sql, config, log } });
    parts.push(health);
    log(`health on port ${health.port} (/health, /ready, /metrics)`);
  }
  log(`polling task queue ${config.temporal.taskQueue} on ${address}`);
} catch (err) {
  await failStartup(parts, log, err, config.shutdownTimeoutMs);
}
