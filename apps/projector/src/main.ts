import './instrument';
import { readConfig } from '@orrery/config';
import { startMetricsServer } from '@orrery/metrics';
import { projectorGroupOf } from '@orrery/projections';
import { createLogger, stopOnSignals } from '@orrery/telemetry';
import { telemetry } from './instrument';
import { startProjector } from './service';
import { sampleConsumerLag } from './consumer-lag';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('projector', config.logLevel);
  const projector = await startProjector(config, logger);
  const metrics = await startMetricsServer({ service: 'projector', host: config.metricsHost, port: config.metricsPorts.projector });
  // The group of the version written: after a rebuild, version 0's group (config.projectorGroup) is deleted.
  const consumerLag = sampleConsumerLag(config, logger, () => projectorGroupOf(config.projectorGroup, projector.version()));
  logger.info({ topic: config.eventsTopic, group: config.projectorGroup, redis: config.redisUrl, prefix: config.redisPrefix, metrics: metrics.port }, 'ready');

  stopOnSignals(logger, async () => {
    logger.info({ freshness: projector.freshness() }, 'freshness at stop');
    await projector.close();
    await Promise.all([metrics.close(), consumerLag.stop()]);
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error('projector failed to start', error);
  process.exit(1);
});
