import { IllegalStateError, Runtime, type RuntimeOptions } from '@temporalio/worker';
import { temporalLogger, type Log, type LogLevel } from './logger.js';
import { setSdkMetricsUrl } from './metrics.js';

export type TemporalRuntimeSettings = { logLevel: LogLevel; temporalMetricsPort: number | null };

let installed: { metricsUrl: string | null } | null = null;

/**
 * Installs the process's Temporal Runtime before its first NativeConnection or Worker: the
 * SDK's lines (worker, workflow `log` sink, activity context, core's own, forwarded) go to our
 * logger, and its metrics to a Prometheus exporter on 127.0.0.1:TEMPORAL_METRICS_PORT, which
 * `/metrics` appends to ours (runtime/metrics.ts).
 *
 * The Runtime is one per process and can be installed once, before any native object: a
 * second call here answers as the first, and a Runtime installed or created by someone else
 * (a test's setup, a TestWorkflowEnvironment) is left as it is. A taken port (another worker
 * on the machine) is a warning, and the worker runs without the SDK's metrics.
 */
export function installTemporalRuntime(settings: TemporalRuntimeSettings, log: Log): { metricsUrl: string | null } {
  if (installed) return installed;
  // Core's own lines: warnings and errors, its INFO lines too when debugging.
  const core = settings.logLevel === 'trace' || settings.logLevel === 'debug' ? 'INFO' : 'WARN';
  const base: RuntimeOptions = {
    logger: temporalLogger(log),
    // Signals are runtime/shutdown.ts's: the SDK's own SIGQUIT/SIGUSR2 handlers would stop the
    // worker and leave the process running without it.
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: { core, other: 'ERROR' }, forward: {} } },
  };
  const port = settings.temporalMetricsPort;
  try {
    if (port !== null) {
      const bindAddress = `127.0.0.1:${port}`;
      try {
        Runtime.install({
          ...base,
          telemetryOptions: {
            ...base.telemetryOptions,
            metrics: { prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } },
          },
        });
        installed = { metricsUrl: `http://${bindAddress}/metrics` };
      } catch (e) {
        if (e instanceof IllegalStateError) throw e;
        log(`Temporal SDK metrics off: ${e instanceof Error ? e.message : String(e)} (TEMPORAL_METRICS_PORT=${port}; 0 turns them off)`, { level: 'warn' });
      }
    }
    if (!installed) {
      Runtime.install(base);
      installed = { metricsUrl: null };
    }
  } catch (e) {
    if (!(e instanceof IllegalStateError)) throw e;
    log('Temporal runtime installed before this process set it up: its logger and metrics are left as they are', { level: 'debug' });
    installed = { metricsUrl: null };
  }
  setSdkMetricsUrl(installed.metricsUrl);
  return installed;
}
