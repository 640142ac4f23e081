// Composition root of the vector service: serves VectorService over the champion model's ANN index,
// follows promotions, and drains on SIGTERM/SIGINT.
import { telemetry } from './instrument';
import { readConfig } from '@orrery/config';
import { sampleEvery, setModelInUse, startMetricsServer } from '@orrery/metrics';
import { createLogger, stopOnSignals } from '@orrery/telemetry';
import { startVector } from './service';

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('vector', config.logLevel);
  const vector = await startVector(config, logger);
  const metrics = await startMetricsServer({ service: 'vector', host: config.metricsHost, port: config.metricsPorts.vector });
  const modelInUse = sampleEvery(config.healthCheckIntervalMs, async () => setModelInUse(vector.modelVersion()), () => undefined);
  logger.info({ address: config.vectorAddress, port: vector.port, modelVersion: vector.modelVersion(), metrics: metrics.port }, 'ready');
  stopOnSignals(logger, async () => {
    await vector.close();
    await Promise.all([metrics.close(), modelInUse.stop()]);
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
