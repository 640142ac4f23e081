import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { dependencyUp } from '@orrery/metrics';
import type { RunningGrpcServer } from './server';

/** One dependency a service cannot answer without: `probe` resolves while it is reachable. */
export interface DependencyCheck {
  readonly name: string;
  readonly probe: () => Promise<unknown>;
}

/** What the monitor tells about transitions (a pino logger fits). */
export interface HealthLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface DependencyMonitorOptions {
  readonly intervalMs: number;
  /** A probe slower than this counts as down; default the interval. */
  readonly timeoutMs?: number;
  readonly logger: HealthLogger;
}

/** A running dependency monitor. */
export interface DependencyMonitor {
  /** True once every dependency answered the last probe. */
  healthy(): boolean;
  stop(): Promise<void>;
}

/**
 * Probes the dependencies now and every intervalMs, and reports grpc.health.v1 SERVING only while
 * all of them answer (NOT_SERVING until the first round passed, and from a failed probe until one
 * succeeds again; the server
 * stays NOT_SERVING once its shutdown began). Probes run with tracing suppressed: a health check
 * every few seconds must not fill Jaeger with root traces. Each dependency's state is also the
 * gauge orrery_dependency_up{dependency}.
 */
export function monitorDependencies(server: Pick<RunningGrpcServer, 'setServing'>, checks: readonly DependencyCheck[], options: DependencyMonitorOptions): DependencyMonitor {
  const timeoutMs = options.timeoutMs ?? options.intervalMs;
  const up = new Map<string, boolean>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const probeOne = async (check: DependencyCheck): Promise<void> => {
    let expiry: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      expiry = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    let failure: unknown;
    try {
      await Promise.race([context.with(suppressTracing(context.active()), check.probe), expired]);
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(expiry);
    }
    const answered = failure === undefined;
    if (up.get(check.name) !== answered) {
      if (answered) options.logger.info({ dependency: check.name }, 'dependency reachable');
      else options.logger.warn({ dependency: check.name, err: failure }, 'dependency unreachable: reporting NOT_SERVING');
    }
    up.set(check.name, answered);
    dependencyUp.set({ dependency: check.name }, answered ? 1 : 0);
  };

  const healthy = (): boolean => checks.every((check) => up.get(check.name) === true);
  // Not SERVING before the first round has shown every dependency answering.
  server.setServing(false);
  let running: Promise<void> = Promise.resolve();
  const round = (): void => {
    running = Promise.all(checks.map(probeOne)).then(() => {
      if (stopped) return;
      server.setServing(healthy());
      timer = setTimeout(round, options.intervalMs).unref();
    });
  };
  round();

  return {
    healthy,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
