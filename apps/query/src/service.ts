// The query service: QueryService over the Redis projections.
import type { OrreryConfig } from '@orrery/config';
import { bindService, monitorDependencies, startGrpcServer } from '@orrery/grpc';
import { followProjections } from '@orrery/projections';
import { QueryService } from '@orrery/proto';
import type { Logger } from '@orrery/telemetry';
import { queryService } from './handlers';

/** A running query service. */
export interface RunningQuery {
  /** The bound gRPC port (config.queryAddress may ask for 0). */
  readonly port: number;
  /** Stops taking calls, lets in-flight ones finish, closes Redis. */
  close(): Promise<void>;
}

/** Serves QueryService on config.queryAddress, reading projections under config.redisPrefix. */
export async function startQuery(config: OrreryConfig, logger: Logger): Promise<RunningQuery> {
  const { reader, redis, close } = await followProjections(config, 'orrery-query', logger);
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
      await health.stop();
      await server.shutdown();
      await close();
    },
  };
}
