import { Pool } from 'pg';
import type { OrreryConfig } from '@orrery/config';
import type { Logger } from '@orrery/telemetry';

/** A connection pool to the configured Postgres; errors of idle connections are logged, not thrown. */
export function createPool(config: Pick<OrreryConfig, 'postgresUrl'>, logger: Logger, max = 10): Pool {
  const pool = new Pool({ connectionString: config.postgresUrl, max, application_name: 'orrery' });
  // Without a listener, an idle client losing its connection would crash the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'postgres: idle connection failed'));
  return pool;
}
