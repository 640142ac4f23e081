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

/** One thing `orrery up` does to make the platform usable. */
export type StartupStep = 'seed' | 'rebuild-projections' | 'train';

/**
 * What `orrery up` does for a state, in order: an empty event store is seeded (projected as it is
 * ingested); events without projections are replayed from Kafka into a new version; without a
 * champion a first model is trained (after seeding, from the seeded events).
 */
export function startupSteps(state: PlatformState): StartupStep[] {
  const steps: StartupStep[] = [];
  if (!state.hasEvents) steps.push('seed');
  else if (!state.hasProjections) steps.push('rebuild-projections');
  if (!state.hasChampion) steps.push('train');
  return steps;
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
