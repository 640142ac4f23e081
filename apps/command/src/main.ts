// Composition root of the command service: migrates Postgres, serves commands over ZeroMQ, relays
// the outbox to Kafka, and drains on SIGTERM/SIGINT.
import { telemetry } from './instrument';
import { readConfig } from '@orrery/config';
import { startMetricsServer } from '@orrery/metrics';
import { createLogger, stopOnSignals } from '@orrery/telemetry';
import { startCommand } from './service';
import { sampleOutboxLag } from './outbox-metrics';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('command', config.logLevel);
  const command = await startCommand(config, logger);
  const metrics = await startMetricsServer({ service: 'command', host: config.metricsHost, port: config.metricsPorts.command });
  const outboxLag = sampleOutboxLag(config, logger);
  logger.info({ endpoint: config.commandZmqEndpoint, topic: config.eventsTopic, metrics: metrics.port }, 'ready');
  stopOnSignals(logger, async () => {
    await command.close();
    await Promise.all([metrics.close(), outboxLag.stop()]);
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
