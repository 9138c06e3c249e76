// `npm start`: everything on one machine — PostgreSQL (or the embedded one), a Temporal dev
// server (unless TEMPORAL_ADDRESS is set), migrations, the worker and the API.
import { loadConfig, loadDotEnv } from './config.js';
import { migrate } from './db/migrate.js';
import { resolveDatabase } from './runtime/database.js';
import { startApi, startWorker, stopOnSignals, type Stoppable } from './runtime/services.js';
import { startTemporalDevServer } from './runtime/temporal-dev.js';
import { connectTemporal, ensureSearchAttributes } from './runtime/temporal.js';
import { printGeneratedTokens, resolveTokens } from './runtime/tokens.js';

const log = (line: string) => console.log(`[inbound-sms] ${line}`);

loadDotEnv();
const config = loadConfig();
const parts: Stoppable[] = [];
stopOnSignals(parts, log);

try {
  const db = await resolveDatabase(config, log);
  parts.push({ stop: db.close });
  const applied = await migrate(db.sql);
  if (applied.length) log(`migrations applied: ${applied.join(', ')}`);

  let address = config.temporal.address;
  if (!address) {
    log('starting the Temporal dev server (state in ' + config.dataDir + '/temporal.db)');
    const dev = await startTemporalDevServer(config, log);
    parts.push(dev);
    address = dev.address;
  }
  const temporal = connectTemporal(address, config.temporal.namespace);
  parts.push({ stop: temporal.close });
  await ensureSearchAttributes(temporal.connection, config.temporal.namespace);

  parts.push(await startWorker({ config, sql: db.sql, address, log }));
  const tokens = await resolveTokens(config);
  const api = await startApi({ config, sql: db.sql, temporal, tokens, log });
  parts.push(api);

  const base = config.publicUrl ?? `http://localhost:${api.port}`;
  log(`API          ${base}`);
  log(`OpenAPI      ${base}/openapi.json`);
  log(`Temporal     ${address}${config.temporal.uiUrl ? `  (UI ${config.temporal.uiUrl})` : ''}`);
  log(`PostgreSQL   ${db.embedded ? 'embedded, in ' + config.dataDir + '/postgres' : 'DATABASE_URL'}`);
  printGeneratedTokens(tokens, config.dataDir, log);
  log('ready; Ctrl-C stops everything');
} catch (err) {
  log(err instanceof Error ? err.message : String(err));
  for (const part of [...parts].reverse()) await part.stop().catch(() => {});
  process.exit(1);
}
