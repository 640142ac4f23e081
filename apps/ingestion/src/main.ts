// Composition root of ingestion: serves the public gRPC and ZeroMQ write APIs, forwards validated
// entries to command, and drains on SIGTERM/SIGINT.
import { telemetry } from './instrument';
import { readConfig } from '@orrery/config';
import { startMetricsServer } from '@orrery/metrics';
import { createLogger, stopOnSignals } from '@orrery/telemetry';
import { startIngestion } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('ingestion', config.logLevel);
  const ingestion = await startIngestion(config, logger);
  const metrics = await startMetricsServer({ service: 'ingestion', host: config.metricsHost, port: config.metricsPorts.ingestion });
  logger.info({ address: config.ingestAddress, port: ingestion.port, zmq: config.ingestZmqEndpoint, command: config.commandZmqEndpoint, metrics: metrics.port }, 'ready');
  stopOnSignals(logger, async () => {
    await ingestion.close();
    await Promise.all([metrics.close()]);
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
