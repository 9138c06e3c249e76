import { loadConfig, loadDotEnv } from '../config.js';
import { resolveDatabase } from '../runtime/database.js';
import { migrate } from './migrate.js';

loadDotEnv();
const config = loadConfig();
const db = await resolveDatabase(config);
const applied = await migrate(db.sql);
console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
await db.close();
