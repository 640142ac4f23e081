// Composition root of the scoring service: scores candidate batches over ZeroMQ with the champion
// ranker, follows promotions, and drains on SIGTERM/SIGINT.
import { telemetry } from './instrument';
import { readConfig } from '@orrery/config';
import { sampleEvery, setModelInUse, startMetricsServer } from '@orrery/metrics';
import { createLogger } from '@orrery/telemetry';
import { startScoring } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('scoring', config.logLevel);
  const scoring = await startScoring(config, logger);
  const metrics = await startMetricsServer({ service: 'scoring', host: config.metricsHost, port: config.metricsPorts.scoring });
  const modelInUse = sampleEvery(config.healthCheckIntervalMs, async () => setModelInUse(scoring.modelVersion()), () => undefined);
  logger.info({ endpoint: config.scoringZmqEndpoint, modelVersion: scoring.modelVersion(), metrics: metrics.port }, 'ready');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    scoring
      .close()
      .then(() => Promise.all([metrics.close(), modelInUse.stop()]))
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
