import { existsSync } from 'node:fs';
import { z } from 'zod';
import { makeKeyring, type Keyring } from './domain/keyring.js';
import { LOG_LEVELS, type LogLevel } from './runtime/logger.js';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const number = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? fallback : Number(v)))
    .pipe(z.number().finite().positive());

/** A whole number, 0 or more. */
const count = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? fallback : Number(v)))
    .pipe(z.number().int().min(0));

const envSchema = z.object({
  PORT: number(3000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: optionalString,
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: optionalString,
  EMBEDDED_PG_PORT: number(54329),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('inbound-sms'),
  TEMPORAL_CLI_PATH: z.string().default('temporal'),
  TEMPORAL_UI_URL: optionalString,
  TEMPORAL_DEV_PORT: number(7233),
  TEMPORAL_DEV_UI_PORT: number(8233),
  ADMIN_TOKEN: optionalString,
  INGEST_TOKEN: optionalString,
  SMS_PROVIDER: z.enum(['log', 'http', 'kaleyra', 'smpp']).default('log'),
  SMPP_PROVIDER_CONNECTION: optionalString,
  SMS_HTTP_URL: optionalString,
  KALEYRA_SID: optionalString,
  KALEYRA_API_KEY: optionalString,
  KALEYRA_BASE_URL: z.string().default('https://api.kaleyra.io'),
  SMTP_URL: optionalString,
  MAIL_FROM: z.string().default('Inbound SMS <no-reply@localhost>'),
  WEBHOOK_RETRY_HOURS: number(72),
  WEBHOOK_TIMEOUT_SECONDS: number(10),
  WEBHOOK_INITIAL_INTERVAL_SECONDS: number(1),
  WEBHOOK_DISABLE_AFTER_FAILURES: number(10),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim().toLowerCase()))
    .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }).optional()),
  // SPEC §5.2 "Fairness": each account's webhook and SMS provider calls in flight per worker
  // process (0: no cap), and how long a first attempt may run locally before it goes on as a
  // regular activity (docs/decisions.md, "Fair shares and slow endpoints").
  OUTBOUND_CONCURRENCY_PER_ACCOUNT: count(150),
  LOCAL_ATTEMPT_BUDGET_MS: number(1500),
  DISPATCH_INTERVAL_MS: number(2000),
  SHUTDOWN_TIMEOUT_SECONDS: number(30),
  // `npm run worker`'s /health and /ready; unset: none (several workers may share a host).
  WORKER_HEALTH_PORT: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : Number(v)))
    .pipe(z.number().int().min(1).max(65535).optional()),
  BODY_LIMIT_BYTES: number(1024 * 1024),
  RETENTION_DAYS: number(90),
  // What one dry-run replay may read (issue 18): messages examined, and seconds spent.
  DRY_RUN_MAX_MESSAGES: number(1_000_000),
  DRY_RUN_MAX_SECONDS: number(8),
  SECRETS_KEY: optionalString,
  SECRETS_KEY_PREVIOUS: optionalString,
  PAYLOAD_KEY: optionalString,
  PAYLOAD_KEY_PREVIOUS: optionalString,
  DELIVERY_REPORT_WAIT_SECONDS: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 3600 : Number(v)))
    .pipe(z.number().int().min(0)),
  LOG_LEVEL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 'info' : v.trim().toLowerCase()))
    .pipe(z.enum(LOG_LEVELS)),
  // The Temporal SDK's Prometheus exporter (127.0.0.1 only); 0 or `off`: none.
  TEMPORAL_METRICS_PORT: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? 9464 : v.trim().toLowerCase() === 'off' ? 0 : Number(v)))
    .pipe(z.number().int().min(0).max(65535)),
  METRICS_TOKEN: optionalString,
  // Per client address and minute (SPEC §5.2 "Limits"); 0: no throttle.
  THROTTLE_FAILED_AUTH_PER_MINUTE: count(300),
  THROTTLE_SIGN_IN_PER_MINUTE: count(10),
});

export type Config = {
  port: number;
  host: string;
  publicUrl: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  embeddedPgPort: number;
  temporal: {
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    cliPath: string;
    uiUrl: string | undefined;
    devPort: number;
    devUiPort: number;
  };
  adminToken: string | undefined;
  ingestToken: string | undefined;
  sms: {
    provider: 'log' | 'http' | 'kaleyra' | 'smpp';
    httpUrl: string | undefined;
    /** SMS_PROVIDER=smpp: the name of the SMPP connection (`/v1/admin/smpp-connections`) SMS are submitted over */
    smppConnection: string | undefined;
    kaleyraSid: string | undefined;
    kaleyraApiKey: string | undefined;
    kaleyraBaseUrl: string;
  };
  smtpUrl: string | undefined;
  mailFrom: string;
  webhook: { retryHours: number; timeoutSeconds: number; initialIntervalSeconds: number };
  /**
   * Webhook and token requests may reach private, loopback, link-local and reserved addresses.
   * Not in `webhook`, which runs take as their retry policy: this is the worker's own rule.
   */
  webhookAllowPrivateNetworks: boolean;
  /** a callback profile is auto-disabled after this many failed deliveries in a row (docs/webhooks.md) */
  callbackProfiles: { disableAfterFailures: number };
  /**
   * The worker's fair share rules (SPEC §5.2): at most `concurrencyPerAccount` webhook and SMS
   * provider calls of one account in flight per process (0: none), and `localBudgetMs` for a
   * first attempt made locally before the call goes on as a regular activity.
   */
  outbound: { concurrencyPerAccount: number; localBudgetMs: number };
  dispatchIntervalMs: number;
  /** how long a stop (a signal) may take before the process exits anyway, non-zero */
  shutdownTimeoutMs: number;
  /** where `npm run worker` serves /health and /ready; undefined: nowhere */
  workerHealthPort: number | undefined;
  deliveryReportWaitSeconds: number;
  /** the largest request body any route reads */
  bodyLimitBytes: number;
  /** a dry run's replay stops after this many messages or seconds, and says how far it got */
  dryRun: { maxMessages: number; maxSeconds: number };
  /** MOs, their actions, outbox rows and delivery attempts older than this are pruned */
  retentionDays: number;
  /**
   * SECRETS_KEY seals the secrets kept in PostgreSQL; PAYLOAD_KEY the customer data in Temporal
   * payloads. Null when unset: `bootstrap` then makes development keys or refuses to start.
   */
  keys: { secrets: Keyring | null; payload: Keyring | null };
  /** the lowest level logged (LOG_LEVEL) */
  logLevel: LogLevel;
  /** where the Temporal SDK's own Prometheus exporter listens, on 127.0.0.1; null: off */
  temporalMetricsPort: number | null;
  /** when set, `GET /metrics` needs `Authorization: Bearer <it>` */
  metricsToken: string | undefined;
  /**
   * Per client address and minute: failed or missing credentials on the guarded routes, and
   * failed console sign-ins, before 429 (api/limits.ts); 0: unlimited.
   */
  throttle: { failedAuthPerMinute: number; signInFailuresPerMinute: number };
};

/**
 * The one place that reads the environment. Throws with every bad variable named.
 * `localStack`: `npm start`, everything on one machine for development (see
 * webhookAllowPrivateNetworks); every other entry point is a deployment.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, opts: { localStack?: boolean } = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.SMS_PROVIDER === 'http' && !e.SMS_HTTP_URL) throw new Error('invalid configuration: SMS_HTTP_URL is required when SMS_PROVIDER=http');
  if (e.SMS_PROVIDER === 'kaleyra' && (!e.KALEYRA_SID || !e.KALEYRA_API_KEY))
    throw new Error('invalid configuration: KALEYRA_SID and KALEYRA_API_KEY are required when SMS_PROVIDER=kaleyra');
  if (e.SMS_PROVIDER === 'smpp' && !e.SMPP_PROVIDER_CONNECTION)
    throw new Error('invalid configuration: SMPP_PROVIDER_CONNECTION (the name of an SMPP connection) is required when SMS_PROVIDER=smpp');
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      cliPath: e.TEMPORAL_CLI_PATH,
      uiUrl: e.TEMPORAL_UI_URL ?? (e.TEMPORAL_ADDRESS ? undefined : `http://localhost:${e.TEMPORAL_DEV_UI_PORT}`),
      devPort: e.TEMPORAL_DEV_PORT,
      devUiPort: e.TEMPORAL_DEV_UI_PORT,
    },
    adminToken: e.ADMIN_TOKEN,
    ingestToken: e.INGEST_TOKEN,
    sms: {
      provider: e.SMS_PROVIDER,
      httpUrl: e.SMS_HTTP_URL,
      smppConnection: e.SMPP_PROVIDER_CONNECTION,
      kaleyraSid: e.KALEYRA_SID,
      kaleyraApiKey: e.KALEYRA_API_KEY,
      kaleyraBaseUrl: e.KALEYRA_BASE_URL,
    },
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    webhook: {
      retryHours: e.WEBHOOK_RETRY_HOURS,
      timeoutSeconds: e.WEBHOOK_TIMEOUT_SECONDS,
      initialIntervalSeconds: e.WEBHOOK_INITIAL_INTERVAL_SECONDS,
    },
    // Unset: allowed only on `npm start`'s own local stack (its dev server, no TEMPORAL_ADDRESS),
    // where a developer's webhook runs on localhost; refused by every other process.
    webhookAllowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS
      ? e.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true'
      : opts.localStack === true && !e.TEMPORAL_ADDRESS,
    callbackProfiles: { disableAfterFailures: Math.ceil(e.WEBHOOK_DISABLE_AFTER_FAILURES) },
    outbound: { concurrencyPerAccount: e.OUTBOUND_CONCURRENCY_PER_ACCOUNT, localBudgetMs: e.LOCAL_ATTEMPT_BUDGET_MS },
    dispatchIntervalMs: e.DISPATCH_INTERVAL_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    workerHealthPort: e.WORKER_HEALTH_PORT,
    deliveryReportWaitSeconds: e.DELIVERY_REPORT_WAIT_SECONDS,
    bodyLimitBytes: Math.floor(e.BODY_LIMIT_BYTES),
    retentionDays: e.RETENTION_DAYS,
    dryRun: { maxMessages: Math.ceil(e.DRY_RUN_MAX_MESSAGES), maxSeconds: e.DRY_RUN_MAX_SECONDS },
    keys: {
      secrets: keyring(e.SECRETS_KEY, e.SECRETS_KEY_PREVIOUS, 'SECRETS_KEY'),
      payload: keyring(e.PAYLOAD_KEY, e.PAYLOAD_KEY_PREVIOUS, 'PAYLOAD_KEY'),
    },
    logLevel: e.LOG_LEVEL,
    temporalMetricsPort: e.TEMPORAL_METRICS_PORT === 0 ? null : e.TEMPORAL_METRICS_PORT,
    metricsToken: e.METRICS_TOKEN,
    throttle: { failedAuthPerMinute: e.THROTTLE_FAILED_AUTH_PER_MINUTE, signInFailuresPerMinute: e.THROTTLE_SIGN_IN_PER_MINUTE },
  };
}

function keyring(current: string | undefined, previous: string | undefined, name: string): Keyring | null {
  if (!current) {
    if (previous) throw new Error(`invalid configuration: ${name}_PREVIOUS is set but ${name} is not`);
    return null;
  }
  try {
    return makeKeyring(current, previous, name);
  } catch (e) {
    throw new Error(`invalid configuration: ${(e as Error).message}`);
  }
}

/** Reads `.env` into the process environment when the file exists; variables already set win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
