import type { OrreryConfig } from '@orrery/config';
import { outboxOldestAge, outboxPending, sampleEvery, type Sampler } from '@orrery/metrics';
import { createPool, readOutboxLag } from '@orrery/store';
import type { Logger } from '@orrery/telemetry';

/** Samples the outbox lag (rows pending, age of the oldest) into its gauges every healthCheckIntervalMs, on a connection of its own. */
export function sampleOutboxLag(config: OrreryConfig, logger: Logger): Sampler {
  const pool = createPool(config, logger, 1);
  const sampler = sampleEvery(
    config.healthCheckIntervalMs,
    async () => {
      const lag = await readOutboxLag(pool);
      outboxPending.set(lag.pendingRows);
      outboxOldestAge.set(lag.oldestAgeSeconds);
    },
    (error) => logger.warn({ err: error }, 'outbox lag not sampled'),
  );
  return {
    stop: async () => {
      await sampler.stop();
      await pool.end();
    },
  };
}
