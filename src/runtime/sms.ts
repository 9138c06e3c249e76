import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import { requireKeyring } from '../domain/keyring.js';
import type { Ingestion } from '../ingest/ingest.js';
import { createSmsProvider, type SmsProvider } from '../outbound/sms-providers.js';
import { smppProvider } from '../smpp/provider.js';

/**
 * The process's SMS provider (SPEC §7 SMS_PROVIDER). `smpp` binds to an SMSC of its own, on the
 * first send: what the SMSC delivers on that bind (MOs, delivery receipts) is stored with this
 * process's `ingestion` and signalled through `temporal`, as on the connection's ingest bind.
 */
export function createSms(config: Config, deps: { sql: Sql; ingestion: Ingestion; temporal: Client; log?: (line: string) => void }): SmsProvider {
  if (config.sms.provider !== 'smpp') return createSmsProvider(config);
  return smppProvider(
    { sql: deps.sql, ingestion: deps.ingestion, temporal: deps.temporal, secrets: requireKeyring(config.keys.secrets, 'SECRETS_KEY'), log: deps.log ?? (() => {}) },
    { connection: config.sms.smppConnection! },
  );
}
