import './instrument';
import { readConfig } from '@orrery/config';
import { startMetricsServer } from '@orrery/metrics';
import { createLogger, stopOnSignals } from '@orrery/telemetry';
import { telemetry } from './instrument';
import { startQuery } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('query', config.logLevel);
  const query = await startQuery(config, logger);
  const metrics = await startMetricsServer({ service: 'query', host: config.metricsHost, port: config.metricsPorts.query });
  logger.info({ address: config.queryAddress, port: query.port, redis: config.redisUrl, prefix: config.redisPrefix, metrics: metrics.port }, 'ready');

  stopOnSignals(logger, async () => {
    await query.close();
    await Promise.all([metrics.close()]);
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error('query failed to start', error);
  process.exit(1);
});
