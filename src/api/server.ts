// `npm run api`: the HTTP API and dispatcher alone, against DATABASE_URL and TEMPORAL_ADDRESS.
import { bootstrap, startApi, temporalAddress } from '../runtime/services.js';
import { connectTemporal, ensureSearchAttributes } from '../runtime/temporal.js';
import { printGeneratedTokens, resolveTokens } from '../runtime/tokens.js';

const { config, log, parts, db } = await bootstrap('api');
const address = temporalAddress(config);
const temporal = connectTemporal(address, config.temporal.namespace, config.keys.payload);
parts.push({ name: 'Temporal connection', stop: temporal.close });
// Registering search attributes needs Temporal; the API itself does not (the dispatcher
// registers them later if they are still missing), so only warn.
await ensureSearchAttributes(temporal.connection, config.temporal.namespace).catch((e) => log(`search attributes not checked: ${String(e)}`));
const tokens = await resolveTokens(config);
const api = await startApi({ config, sql: db.sql, temporal, tokens, log });
parts.push(api);
log(`listening on ${api.port}; Temporal at ${address}`);
printGeneratedTokens(tokens, config.dataDir, log);
