// Composition root of the recommender: reads the configuration, starts RecommendationService and
// drains on SIGTERM/SIGINT.
import { telemetry } from './instrument';
import { readConfig } from '@orrery/config';
import { startMetricsServer } from '@orrery/metrics';
import { createLogger, stopOnSignals } from '@orrery/telemetry';
import { startRecommender } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('recommender', config.logLevel);
  const recommender = await startRecommender(config, logger);
  const metrics = await startMetricsServer({ service: 'recommender', host: config.metricsHost, port: config.metricsPorts.recommender });
  logger.info(
    { address: config.recommenderAddress, port: recommender.port, redis: config.redisUrl, prefix: config.redisPrefix, scoring: config.scoringZmqEndpoint, metrics: metrics.port },
    'ready',
  );
  stopOnSignals(logger, async () => {
    await recommender.close();
    await Promise.all([metrics.close()]);
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
