// Composition root of the scoring service: scores candidate batches over ZeroMQ with the champion
// ranker, follows promotions, and drains on SIGTERM/SIGINT.
import { telemetry } from './instrument';
import { readConfig } from '@orrery/config';
import { createLogger } from '@orrery/telemetry';
import { startScoring } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('scoring', config.logLevel);
  const scoring = await startScoring(config, logger);
  logger.info({ endpoint: config.scoringZmqEndpoint, modelVersion: scoring.modelVersion() }, 'ready');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    scoring
      .close()
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
