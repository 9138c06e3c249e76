import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { Ingestion } from '../ingest/ingest.js';
import type { SmsProvider } from '../outbound/sms-providers.js';
import type { SmppBinds } from '../smpp/binds.js';

/** What the HTTP app needs; tokens are resolved (generated in development) before it is built. */
export type AppDeps = {
  sql: Sql;
  temporal: Client;
  config: Config;
  tokens: { admin: string; ingest: string };
  /** the send API's provider; runs send through the worker's own */
  sms: SmsProvider;
  log?: (line: string) => void;
  /** routing cache, group-committing writer and run starter; createApp makes them when not given */
  ingestion?: Ingestion;
  /** this process's SMPP binds, whose live state the admin API shows (none: the state their holders last wrote) */
  smpp?: SmppBinds;
};
