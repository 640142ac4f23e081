// Composition root of ingestion: serves the public gRPC and ZeroMQ write APIs, forwards validated
// entries to command, and drains on SIGTERM/SIGINT.
import { telemetry } from './instrument';
import { readConfig } from '@orrery/config';
import { startMetricsServer } from '@orrery/metrics';
import { createLogger } from '@orrery/telemetry';
import { startIngestion } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('ingestion', config.logLevel);
  const ingestion = await startIngestion(config, logger);
  const metrics = await startMetricsServer({ service: 'ingestion', host: config.metricsHost, port: config.metricsPorts.ingestion });
  logger.info({ address: config.ingestAddress, port: ingestion.port, zmq: config.ingestZmqEndpoint, command: config.commandZmqEndpoint, metrics: metrics.port }, 'ready');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    ingestion
      .close()
      .then(() => Promise.all([metrics.close()]))
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
