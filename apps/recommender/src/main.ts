// Composition root of the recommender: reads the configuration and starts RecommendationService —
// in this process, or, with ORRERY_RECOMMENDER_WORKERS > 1, in that many node:cluster workers sharing
// the port (Node runs JavaScript on one core; the workers use the others). The primary then only
// supervises: it serves the workers' summed metrics, replaces a worker that dies, and on
// SIGTERM/SIGINT drains them all.
import { telemetry } from './instrument';
import cluster, { type Worker } from 'node:cluster';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { collectMetricsForClusterPrimary, startMetricsServer } from '@orrery/metrics';
import { createLogger, stopOnSignals, type Logger } from '@orrery/telemetry';
import { startRecommender } from './service';

/** What a worker tells the primary once it serves. */
interface WorkerReady {
  readonly type: 'orrery-recommender-ready';
  readonly port: number;
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger('recommender', config.logLevel);
  if (config.recommenderWorkers > 1 && cluster.isPrimary) return superviseWorkers(config, logger);

  const recommender = await startRecommender(config, logger);
  // Signals are handled from here on, also during the warm-up (close() stops it); a recommender
  // stopped while it warmed up never reports ready.
  let stopping = false;
  if (cluster.isWorker) {
    collectMetricsForClusterPrimary('recommender');
    stopOnSignals(logger, async () => {
      stopping = true;
      await recommender.close();
      await telemetry.shutdown();
    });
    await recommender.warmedUp;
    if (!stopping) process.send?.({ type: 'orrery-recommender-ready', port: recommender.port } satisfies WorkerReady);
    return;
  }
  const metrics = await startMetricsServer({ service: 'recommender', host: config.metricsHost, port: config.metricsPorts.recommender });
  stopOnSignals(logger, async () => {
    stopping = true;
    await recommender.close();
    await metrics.close();
    await telemetry.shutdown();
  });
  await recommender.warmedUp;
  if (stopping) return;
  logger.info({ address: config.recommenderAddress, port: recommender.port, redis: config.redisUrl, prefix: config.redisPrefix, scoring: config.scoringZmqEndpoint, metrics: metrics.port }, 'ready');
}

/** Forks the workers, logs `ready` once all serve, replaces a worker that dies, drains them on a signal. */
async function superviseWorkers(config: OrreryConfig, logger: Logger): Promise<void> {
  let stopping = false;
  const fork = (): Promise<{ worker: Worker; port: number }> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      const onExit = (code: number | null): void => reject(new Error(`recommender worker exited with code ${code} before it served`));
      worker.once('exit', onExit);
      worker.on('message', (message: WorkerReady) => {
        if (message.type !== 'orrery-recommender-ready') return;
        worker.off('exit', onExit);
        resolve({ worker, port: message.port });
      });
    });
  const watch = (worker: Worker): void => {
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      logger.error({ pid: worker.process.pid, code, signal }, 'recommender worker died; starting another');
      fork().then(({ worker: replacement }) => watch(replacement), (error: unknown) => logger.error({ err: error }, 'could not replace a recommender worker'));
    });
  };
  const started = await Promise.all(Array.from({ length: config.recommenderWorkers }, fork));
  started.forEach(({ worker }) => watch(worker));
  const metrics = await startMetricsServer({ service: 'recommender', host: config.metricsHost, port: config.metricsPorts.recommender, aggregateClusterWorkers: true });
  logger.info({ address: config.recommenderAddress, port: started[0]!.port, workers: started.length, metrics: metrics.port }, 'ready');
  stopOnSignals(logger, async () => {
    stopping = true;
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (!worker || worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    await metrics.close();
    await telemetry.shutdown();
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
