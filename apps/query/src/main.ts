import './instrument';
import { readConfig } from '@orrery/config';
import { startMetricsServer } from '@orrery/metrics';
import { createLogger } from '@orrery/telemetry';
import { telemetry } from './instrument';
import { startQuery } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('query', config.logLevel);
  const query = await startQuery(config, logger);
  const metrics = await startMetricsServer({ service: 'query', host: config.metricsHost, port: config.metricsPorts.query });
  logger.info({ address: config.queryAddress, port: query.port, redis: config.redisUrl, prefix: config.redisPrefix, metrics: metrics.port }, 'ready');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    query
      .close()
      .then(() => Promise.all([metrics.close()]))
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
  console.error('query failed to start', error);
  process.exit(1);
});
