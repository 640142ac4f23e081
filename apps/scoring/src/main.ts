// Composition root of the scoring service: scores candidate batches over ZeroMQ with the champion
// ranker, follows promotions, and drains on SIGTERM/SIGINT.
import { telemetry } from './instrument';
import { readConfig } from '@orrery/config';
import { sampleEvery, setModelInUse, startMetricsServer } from '@orrery/metrics';
import { createLogger, stopOnSignals } from '@orrery/telemetry';
import { startScoring } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('scoring', config.logLevel);
  const scoring = await startScoring(config, logger);
  const metrics = await startMetricsServer({ service: 'scoring', host: config.metricsHost, port: config.metricsPorts.scoring });
  const modelInUse = sampleEvery(config.healthCheckIntervalMs, async () => setModelInUse(scoring.modelVersion()), () => undefined);
  logger.info({ endpoint: config.scoringZmqEndpoint, modelVersion: scoring.modelVersion(), metrics: metrics.port }, 'ready');
  stopOnSignals(logger, async () => {
    await scoring.close();
    await Promise.all([metrics.close(), modelInUse.stop()]);
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
