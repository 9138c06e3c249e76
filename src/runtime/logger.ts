import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogLevel as SdkLogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import { pino, type DestinationStream, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
type LineLevel = Exclude<LogLevel, 'silent'>;

/**
 * The ids that tie a line to a request, an MO and its run (SPEC §9), and whatever else the line
 * says as data. `level` is the line's (info when absent). Never a secret, a message's text or a
 * customer's whole number.
 */
export type LogFields = {
  level?: LineLevel;
  requestId?: string;
  moId?: string;
  workflowId?: string;
  gateway?: string;
  err?: unknown;
  [field: string]: unknown;
};

/** What every part of the service logs through: one line, with its fields. */
export type Log = (line: string, fields?: LogFields) => void;

/** A Log that drops everything: the default of parts built without one (tests). */
export const silentLog: Log = () => {};

type Scope = Record<string, unknown>;
const scope = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn` with `fields` on every line logged while it runs, and by whatever it starts (timers,
 * promises). `fresh`: only these fields, none of the caller's (a run's start, set off by one
 * request, is not that request's).
 */
export function withLogFields<T>(fields: Scope, fn: () => T, opts: { fresh?: boolean } = {}): T {
  return scope.run(opts.fresh ? { ...fields } : { ...scope.getStore(), ...fields }, fn);
}

/** Adds fields to the current scope's lines from now on: the access line of the request that stored an MO names it. */
export function addLogFields(fields: Scope): void {
  const store = scope.getStore();
  if (store) Object.assign(store, fields);
}

/** The fields of the current scope. */
export function logFields(): Scope {
  return { ...scope.getStore() };
}

/**
 * Errors as data, with no enumerable extras: a postgres.js error carries the query's
 * parameters (a message's text, a number), which must not reach a log.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Record<string, unknown> = { type: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (err.stack) out.stack = err.stack;
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined) out.cause = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return out;
}

/**
 * One pino logger per process. JSON lines (`level` as a word, `time` in ISO-8601, `msg`), each
 * with the fields of its scope (`withLogFields`); `destination` defaults to stdout. Keys that
 * name credentials are censored wherever they appear, one level deep, as a safety net.
 */
export function createLogger(opts: { level: LogLevel; name?: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      ...(opts.name ? { name: opts.name } : {}),
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // A fresh object each line: pino merges the call's fields into what the mixin returns.
      mixin: () => ({ ...scope.getStore() }),
      serializers: { err: serializeError, error: serializeError },
      redact: {
        paths: ['authorization', 'password', 'token', 'api_key', 'secret', '*.authorization', '*.password', '*.token', '*.api_key', '*.secret'],
        censor: '[redacted]',
      },
    },
    opts.destination ?? stdoutDestination(),
  );
}

let stdout: ReturnType<typeof pino.destination> | null = null;

/**
 * stdout, written asynchronously: a pipe whose reader falls behind (a container runtime, a
 * journal) must not block the event loop, and so ingest. What is still buffered is written
 * out synchronously when the process exits.
 */
function stdoutDestination(): ReturnType<typeof pino.destination> {
  if (stdout) return stdout;
  const dest = pino.destination({ dest: 1, sync: false });
  process.on('exit', () => {
    try {
      dest.flushSync();
    } catch {
      // nothing more can be done while exiting
    }
  });
  return (stdout = dest);
}

/**
 * The process's logger: JSON lines on stdout, or pino-pretty's readable lines when stdout is a
 * terminal (`npm start` in a shell). JSON lines are written asynchronously and flushed at
 * exit; the terminal's are written synchronously.
 */
export async function processLogger(level: LogLevel, name: string): Promise<Logger> {
  if (!process.stdout.isTTY) return createLogger({ level, name });
  const { default: pretty } = await import('pino-pretty');
  return createLogger({
    level,
    name,
    destination: pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
  });
}

/** A Log writing to a pino logger. */
export function lineLog(logger: Logger): Log {
  return (line, fields) => {
    if (!fields) {
      logger.info(line);
      return;
    }
    const { level = 'info', ...rest } = fields;
    logger[level](rest, line);
  };
}

/** The SDK's levels as ours. */
export function sdkLevel(level: SdkLogLevel): LineLevel {
  switch (level) {
    case 'TRACE':
      return 'trace';
    case 'DEBUG':
      return 'debug';
    case 'INFO':
      return 'info';
    case 'WARN':
      return 'warn';
    case 'ERROR':
      return 'error';
    default:
      return 'info';
  }
}

/** The SDK's fields as ours: its errors serialized, an MO's run (`mo-<id>`) named by the MO's id too. */
export function sdkFields(meta: LogMetadata | undefined): LogFields {
  const fields: LogFields = {};
  if (!meta) return fields;
  // Symbol keys (the SDK's timestamp of a forwarded core line) are left out.
  for (const [key, value] of Object.entries(meta)) {
    if (key === 'level') fields.sdkLevel = value;
    else if ((key === 'error' || key === 'failure') && value instanceof Error) fields.err = value;
    else fields[key] = value;
  }
  const workflowId = fields.workflowId;
  if (typeof workflowId === 'string' && workflowId.startsWith('mo-') && fields.moId === undefined) fields.moId = workflowId.slice(3);
  return fields;
}

/**
 * The Temporal SDK's logger (Runtime, worker, workflow `log` sink, activity context, forwarded
 * core lines) writing to ours. `demote`: every line one level lower, at most debug (the
 * workflow bundler's report, which is only of interest when debugging).
 */
export function temporalLogger(log: Log, opts: { demote?: boolean } = {}): SdkLogger {
  const write = (level: SdkLogLevel, message: string, meta?: LogMetadata) => {
    let ours = sdkLevel(level);
    if (opts.demote && ours !== 'error') ours = ours === 'trace' ? 'trace' : ours === 'debug' ? 'trace' : 'debug';
    log(message, { ...sdkFields(meta), level: ours });
  };
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}
