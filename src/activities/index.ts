import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { Mailer } from '../outbound/mailer.js';
import type { SmsProvider } from '../outbound/sms-providers.js';
import { createOutboundActivities } from './outbound.js';
import { AccountCalls, Handovers } from './outbound-calls.js';
import { createRetentionActivities } from './retention.js';
import { createRunActivities } from './run.js';
import { createStartRun } from './start-run.js';
import { createWebhookActivities } from './webhook.js';

export type ActivityDeps = { sql: Sql; config: Config; sms: SmsProvider; mailer: Mailer };

/** Every activity the worker registers; workflows import this module's type only. */
export function createActivities(deps: ActivityDeps) {
  const run = createRunActivities(deps);
  // One cap per account over its webhook and SMS provider calls in this process (SPEC §5.2).
  const shared = { calls: new AccountCalls(deps.config.outbound.concurrencyPerAccount), handovers: new Handovers() };
  const webhook = createWebhookActivities({ ...deps, ...shared });
  const outbound = createOutboundActivities({ ...deps, ...shared });
  return { ...run, ...webhook, ...outbound, ...createStartRun({ run, webhook, outbound }), ...createRetentionActivities(deps) };
}
