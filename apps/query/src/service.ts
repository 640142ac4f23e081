// The query service: QueryService over the Redis projections.
import type { OrreryConfig } from '@orrery/config';
import { bindService, monitorDependencies, startGrpcServer } from '@orrery/grpc';
import { controlKeys, createRedis, projectionKeys, readProjectionVersion, versionPrefix, watchProjectionVersion } from '@orrery/projections';
import { QueryService } from '@orrery/proto';
import type { Logger } from '@orrery/telemetry';
import { queryService } from './handlers';
import { redisProjectionReader } from './reader';

/** A running query service. */
export interface RunningQuery {
  /** The bound gRPC port (config.queryAddress may ask for 0). */
  readonly port: number;
  /** Stops taking calls, lets in-flight ones finish, closes Redis. */
  close(): Promise<void>;
}

/** Serves QueryService on config.queryAddress, reading projections under config.redisPrefix. */
export async function startQuery(config: OrreryConfig, logger: Logger): Promise<RunningQuery> {
  const redis = createRedis(config, 'orrery-query', { autoPipelining: true });
  const control = controlKeys(config.redisPrefix);
  // Each call reads the version current when it starts; a rebuild's switch reaches query within one
  // poll interval, and the old version is kept longer than that (rebuild.ts), so no call reads a dropped one.
  // Redis may be down at start (health says NOT_SERVING): then the first poll that reads the pointer sets it.
  let version = await readProjectionVersion(redis, control).catch((error: unknown) => {
    logger.warn({ err: error }, 'projection version unknown at start (Redis unreachable); reading version 0 until Redis answers');
    return -1;
  });
  let keys = projectionKeys(versionPrefix(config.redisPrefix, Math.max(0, version)));
  const stopWatching = watchProjectionVersion(
    redis,
    control,
    version,
    config.projectionVersionPollMs,
    async (next) => {
      logger.info({ from: version, to: next }, 'projection version switched');
      version = next;
      keys = projectionKeys(versionPrefix(config.redisPrefix, version));
    },
    (error) => logger.error({ err: error }, 'projection version check failed'),
  );
  const reader = redisProjectionReader(redis, () => keys, config.projection);
  const server = await startGrpcServer({
    address: config.queryAddress,
    services: [bindService(QueryService, queryService(reader))],
    onInternalError: (error, path) => logger.error({ err: error, path }, 'query call failed'),
  });
  // NOT_SERVING while Redis does not answer: every call reads it.
  const health = monitorDependencies(server, [{ name: 'redis', probe: () => redis.ping() }], { intervalMs: config.healthCheckIntervalMs, logger });
  return {
    port: server.port,
    close: async () => {
      stopWatching();
      await health.stop();
      await server.shutdown();
      await redis.quit();
    },
  };
}
