// `npm run worker`: the Temporal worker alone; scale it out by running more of these.
import { bootstrap, startWorker, temporalAddress } from '../runtime/services.js';

const { config, log, parts, db } = await bootstrap('worker');
const address = temporalAddress(config);
parts.push(await startWorker({ config, sql: db.sql, address, log }));
log(`polling task queue ${config.temporal.taskQueue} on ${address}`);
