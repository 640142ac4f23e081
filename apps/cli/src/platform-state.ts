// What `orrery up` finds on the engines, so it seeds, rebuilds or trains only what is missing —
// read from the engines themselves, not from a marker file that outlives them (a Redis restarted
// empty, a reset database).
import { Client } from 'pg';
import type { OrreryConfig } from '@orrery/config';
import { controlKeys, createRedis, projectionKeys, readProjectionVersion, versionPrefix } from '@orrery/projections';

export interface PlatformState {
  /** The event store holds at least one event. */
  readonly hasEvents: boolean;
  /** The current projection version holds a trending ranking (something was projected). */
  readonly hasProjections: boolean;
  /** The model registry has a champion. */
  readonly hasChampion: boolean;
}

/** Reads the state of the event store, the projections and the model registry (the schema exists: services ran migrations). */
export async function readPlatformState(config: OrreryConfig): Promise<PlatformState> {
  const database = new Client({ connectionString: config.postgresUrl });
  const redis = createRedis(config, 'orrery-cli');
  try {
    await database.connect();
    const { rows } = await database.query<{ has_events: boolean; has_champion: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM events) AS has_events, EXISTS (SELECT 1 FROM model_versions WHERE status = 'champion') AS has_champion",
    );
    const version = await readProjectionVersion(redis, controlKeys(config.redisPrefix));
    const trending = await redis.exists(projectionKeys(versionPrefix(config.redisPrefix, version)).trending.overall);
    return { hasEvents: rows[0]?.has_events ?? false, hasProjections: trending > 0, hasChampion: rows[0]?.has_champion ?? false };
  } finally {
    await database.end();
    redis.disconnect();
  }
}
