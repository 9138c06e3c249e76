// `npm run worker`: the Temporal worker alone; scale it out by running more of these.
import { loadConfig, loadDotEnv } from '../config.js';
import { migrate } from '../db/migrate.js';
import { resolveDatabase } from '../runtime/database.js';
import { startWorker, stopOnSignals, type Stoppable } from '../runtime/services.js';

const log = (line: string) => console.log(`[worker] ${line}`);
loadDotEnv();
const config = loadConfig();
const parts: Stoppable[] = [];
stopOnSignals(parts, log);

const db = await resolveDatabase(config, log);
parts.push({ stop: db.close });
await migrate(db.sql);
const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
parts.push(await startWorker({ config, sql: db.sql, address, log }));
log(`polling task queue ${config.temporal.taskQueue} on ${address}`);
