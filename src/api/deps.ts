import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';

/** What the HTTP app needs; tokens are resolved (generated in development) before it is built. */
export type AppDeps = {
  sql: Sql;
  temporal: Client;
  config: Config;
  tokens: { admin: string; ingest: string };
  log?: (line: string) => void;
};
