import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

/** A periodic sampler started by sampleEvery. */
export interface Sampler {
  stop(): Promise<void>;
}

/**
 * Runs `sample` now and then every intervalMs (never two at once), for gauges read from elsewhere
 * (outbox rows, consumer offsets). A failed sample is reported to onError and retried next time.
 * Samples run with tracing suppressed, so their Postgres or Redis calls add no traces to Jaeger.
 */
export function sampleEvery(intervalMs: number, sample: () => Promise<void>, onError: (error: unknown) => void): Sampler {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    running = context
      .with(suppressTracing(context.active()), sample)
      .catch((error: unknown) => {
        if (!stopped) onError(error);
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs).unref();
      });
  };
  tick();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
