import './instrument';
import { readConfig } from '@orrery/config';
import { createLogger } from '@orrery/telemetry';
import { telemetry } from './instrument';
import { startQuery } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('query', config.logLevel);
  const query = await startQuery(config, logger);
  logger.info({ address: config.queryAddress, port: query.port, redis: config.redisUrl, prefix: config.redisPrefix }, 'ready');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    query
      .close()
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
