// `npm run api`: the HTTP API and dispatcher alone, against DATABASE_URL and TEMPORAL_ADDRESS.
import { loadConfig, loadDotEnv } from '../config.js';
import { migrate } from '../db/migrate.js';
import { resolveDatabase } from '../runtime/database.js';
import { startApi, stopOnSignals, type Stoppable } from '../runtime/services.js';
import { connectTemporal, ensureSearchAttributes } from '../runtime/temporal.js';
import { printGeneratedTokens, resolveTokens } from '../runtime/tokens.js';

const log = (line: string) => console.log(`[api] ${line}`);
loadDotEnv();
const config = loadConfig();
const parts: Stoppable[] = [];
stopOnSignals(parts, log);

const db = await resolveDatabase(config, log);
parts.push({ stop: db.close });
await migrate(db.sql);
const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
const temporal = connectTemporal(address, config.temporal.namespace);
parts.push({ stop: temporal.close });
// Registering search attributes needs Temporal; the API itself does not, so only warn.
await ensureSearchAttributes(temporal.connection, config.temporal.namespace).catch((e) => log(`search attributes not checked: ${String(e)}`));
const tokens = await resolveTokens(config);
const api = await startApi({ config, sql: db.sql, temporal, tokens, log });
parts.push(api);
log(`listening on ${api.port}; Temporal at ${address}`);
printGeneratedTokens(tokens, config.dataDir, log);
