import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { METRICS_SERVICES, readConfig, type MetricsService } from '@orrery/config';
import { createTestDatabase, deleteTestKeys, deleteTestTopic, dropTestDatabase, freePort, uniqueName } from '@orrery/testing';
import { REPO_ROOT, startServices, stopServices, type ServiceName, type ServiceProcess } from './platform';

/** A whole Orrery (every service) for one test file or benchmark run, isolated from others on the shared engines (stop() removes what it made). */
export interface IsolatedPlatform {
  readonly env: NodeJS.ProcessEnv;
  readonly databaseUrl: string;
  readonly ingestAddress: string;
  readonly recommenderAddress: string;
  readonly services: readonly ServiceProcess[];
  /** `http://127.0.0.1:<port>/metrics` of each service. */
  readonly metricsUrls: Readonly<Record<MetricsService, string>>;
  /** Runs the trainer once against this platform's event store (with trainer flags, e.g. `--factors 2`); returns its output. */
  train(args?: readonly string[]): string;
  stop(): Promise<void>;
}

/**
 * Starts every service (or `only` these) from the built dist/, with its own database, topic, Redis
 * prefix, ports and endpoints; `overrides` are applied last (e.g. `{ ORRERY_TRACE_SAMPLE_RATIO: '0.01' }` for a benchmark),
 * and `nodeFlags` go to every service's node (see StartOptions).
 */
export async function startIsolatedPlatform(overrides: Readonly<Record<string, string>> = {}, only?: readonly ServiceName[], nodeFlags: readonly string[] = []): Promise<IsolatedPlatform> {
  const databaseUrl = await createTestDatabase();
  const id = uniqueName('e2e');
  const [ingest, recommender, query, vector] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const metricsPorts = await Promise.all(METRICS_SERVICES.map(() => freePort()));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ORRERY_POSTGRES_URL: databaseUrl,
    ORRERY_REDIS_PREFIX: id,
    ORRERY_EVENTS_TOPIC: `${id}.events`,
    ORRERY_PROJECTOR_GROUP: `${id}-projector`,
    ORRERY_INGEST_ADDRESS: `127.0.0.1:${ingest}`,
    ORRERY_RECOMMENDER_ADDRESS: `127.0.0.1:${recommender}`,
    ORRERY_QUERY_ADDRESS: `127.0.0.1:${query}`,
    ORRERY_VECTOR_ADDRESS: `127.0.0.1:${vector}`,
    ORRERY_INGEST_ZMQ_ENDPOINT: `ipc:///tmp/${id}-ingest`,
    ORRERY_COMMAND_ZMQ_ENDPOINT: `ipc:///tmp/${id}-command`,
    ORRERY_SCORING_ZMQ_ENDPOINT: `ipc:///tmp/${id}-scoring`,
    ORRERY_TRACE_SAMPLE_RATIO: '1',
    ...Object.fromEntries(METRICS_SERVICES.map((service, index) => [`ORRERY_METRICS_PORT_${service.toUpperCase()}`, String(metricsPorts[index])])),
    ...overrides,
  };
  const config = readConfig(env);
  const services = await startServices({ env, logDir: join(REPO_ROOT, '.orrery', 'logs', id), detached: false, readyTimeoutMs: 90_000, only, nodeFlags });
  return {
    env,
    databaseUrl,
    ingestAddress: env.ORRERY_INGEST_ADDRESS!,
    recommenderAddress: env.ORRERY_RECOMMENDER_ADDRESS!,
    services,
    metricsUrls: Object.fromEntries(METRICS_SERVICES.map((service) => [service, `http://127.0.0.1:${config.metricsPorts[service]}/metrics`])) as Record<MetricsService, string>,
    train: (args = []) => {
      const run = spawnSync(process.execPath, [join(REPO_ROOT, 'apps', 'trainer', 'dist', 'main.js'), ...args], { env, encoding: 'utf8', timeout: 300_000 });
      if (run.status !== 0) throw new Error(`trainer failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
      return run.stdout;
    },
    stop: async () => {
      await stopServices(services);
      // The topic, keys and database are this platform's alone: left behind, they pile up on the shared engines.
      await Promise.all([dropTestDatabase(databaseUrl), deleteTestTopic(config.eventsTopic, config), deleteTestKeys(config.redisPrefix, config)]);
    },
  };
}
