import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { Mailer } from '../outbound/mailer.js';
import type { SmsProvider } from '../outbound/sms-providers.js';
import { createOutboundActivities } from './outbound.js';
import { createRetentionActivities } from './retention.js';
import { createRunActivities } from './run.js';
import { createStartRun } from './start-run.js';
import { createWebhookActivities } from './webhook.js';

export type ActivityDeps = { sql: Sql; config: Config; sms: SmsProvider; mailer: Mailer };

/** Every activity the worker registers; workflows import this module's type only. */
export function createActivities(deps: ActivityDeps) {
  const run = createRunActivities(deps);
  const webhook = createWebhookActivities(deps);
  const outbound = createOutboundActivities(deps);
  return { ...run, ...webhook, ...outbound, ...createStartRun({ run, webhook, outbound }), ...createRetentionActivities(deps) };
}
