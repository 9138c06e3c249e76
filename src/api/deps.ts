import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { Ingestion } from '../ingest/ingest.js';
import type { SmsProvider } from '../outbound/sms-providers.js';
import type { Readiness } from '../runtime/readiness.js';
import type { SmppBinds } from '../smpp/binds.js';
import type { Log } from '../runtime/logger.js';

/** What the HTTP app needs; tokens are resolved (generated in development) before it is built. */
export type AppDeps = {
  sql: Sql;
  temporal: Client;
  config: Config;
  tokens: { admin: string; ingest: string };
  /** the send API's provider; runs send through the worker's own */
  sms: SmsProvider;
  /** the process's log (runtime/logger.ts); none: nothing is logged */
  log?: Log;
  /** routing cache, group-committing writer and run starter; createApp makes them when not given */
  ingestion?: Ingestion;
  /** this process's SMPP binds, whose live state the admin API shows (none: the state their holders last wrote) */
  smpp?: SmppBinds;
  /** `/ready`'s checks; createApp checks PostgreSQL, Temporal and the migrations when not given */
  ready?: () => Promise<Readiness>;
};
