import './instrument';
import { readConfig } from '@orrery/config';
import { startMetricsServer } from '@orrery/metrics';
import { createLogger } from '@orrery/telemetry';
import { telemetry } from './instrument';
import { startProjector } from './service';
import { sampleConsumerLag } from './consumer-lag';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('projector', config.logLevel);
  const projector = await startProjector(config, logger);
  const metrics = await startMetricsServer({ service: 'projector', host: config.metricsHost, port: config.metricsPorts.projector });
  const consumerLag = sampleConsumerLag(config, logger);
  logger.info({ topic: config.eventsTopic, group: config.projectorGroup, redis: config.redisUrl, prefix: config.redisPrefix, metrics: metrics.port }, 'ready');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, freshness: projector.freshness() }, 'stopping');
    projector
      .close()
      .then(() => Promise.all([metrics.close(), consumerLag.stop()]))
      .then(() => telemetry.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'unclean shutdown');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error('projector failed to start', error);
  process.exit(1);
});
