// `npm start`: everything on one machine — PostgreSQL (or the embedded one), a Temporal dev
// server (unless TEMPORAL_ADDRESS is set), migrations, the worker and the API.
import { uiCodecPath } from './api/routes/codec.js';
import { bootstrap, failStartup, startApi, startWorker } from './runtime/services.js';
import { startTemporalDevServer } from './runtime/temporal-dev.js';
import { clientOverWorkerConnection, ensureSearchAttributes } from './runtime/temporal.js';
import { printGeneratedTokens, resolveTokens } from './runtime/tokens.js';

const { config, log, parts, db } = await bootstrap('inbound-sms', { localStack: true });
if (config.webhookAllowPrivateNetworks) {
  log('webhooks and token requests may reach private and loopback addresses (local development stack; WEBHOOK_ALLOW_PRIVATE_NETWORKS=false refuses them)');
}

try {
  const tokens = await resolveTokens(config);
  let address = config.temporal.address;
  if (!address) {
    log('starting the Temporal dev server (state in ' + config.dataDir + '/temporal.db)');
    // Its UI decodes the runs' encrypted payloads through this API (api/routes/codec.ts).
    const uiCodecEndpoint = `${(config.publicUrl ?? `http://localhost:${config.port}`).replace(/\/$/, '')}${uiCodecPath(tokens.admin)}`;
    const dev = await startTemporalDevServer(config, log, { uiCodecEndpoint });
    parts.push(dev);
    address = dev.address;
  }
  const worker = await startWorker({ config, sql: db.sql, address, log });
  parts.push(worker);
  // API and worker share one connection, so the API's starts are eager (see runtime/temporal.ts).
  const temporal = clientOverWorkerConnection(worker.connection, config.temporal.namespace, config.keys.payload);
  await ensureSearchAttributes(temporal.connection, config.temporal.namespace);
  const api = await startApi({ config, sql: db.sql, temporal, tokens, log, workerState: worker.state });
  parts.push(api);

  const base = config.publicUrl ?? `http://localhost:${api.port}`;
  log(`API          ${base}`);
  log(`API docs     ${base}/docs (OpenAPI: ${base}/openapi.json)`);
  log(`Temporal     ${address}${config.temporal.uiUrl ? `  (UI ${config.temporal.uiUrl})` : ''}`);
  log(`PostgreSQL   ${db.embedded ? 'embedded, in ' + config.dataDir + '/postgres' : 'DATABASE_URL'}`);
  printGeneratedTokens(tokens, config.dataDir, log);
  log('ready; Ctrl-C stops everything');
} catch (err) {
  await failStartup(parts, log, err, config.shutdownTimeoutMs);
}
