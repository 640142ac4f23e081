import { Client as PgClient } from 'pg';
import { createClient, type Client } from '@orrery/grpc';
import { IngestService, RecommendationService } from '@orrery/proto';
import { eventually } from '@orrery/testing';
import { startIsolatedPlatform, type IsolatedPlatform } from '../src/isolated-platform';
import { seedDemoData, type SeedResult } from '../src/seed';

/** An isolated platform seeded with a small synthetic set, trained, projected, with clients to drive it. */
export interface SeededPlatform {
  readonly platform: IsolatedPlatform;
  readonly seeded: SeedResult;
  readonly ingest: Client<typeof IngestService>;
  readonly recommender: Client<typeof RecommendationService>;
  /** A connection to the platform's own event store. */
  readonly database: PgClient;
  stop(): Promise<void>;
}

export interface SeededPlatformOptions {
  readonly seed: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Arguments of the first training run. */
  readonly trainArgs?: readonly string[];
}

/**
 * Starts every service, seeds 300 users × 240 items, trains once, and returns when the projector
 * has caught up with the seed (trending is full).
 */
export async function startSeededPlatform(options: SeededPlatformOptions): Promise<SeededPlatform> {
  const platform = await startIsolatedPlatform(options.env);
  const seeded = await seedDemoData({ ingestAddress: platform.ingestAddress, users: 300, items: 240, eventsPerUser: 30, seed: options.seed, progress: false });
  platform.train(options.trainArgs);
  const ingest = createClient(IngestService, platform.ingestAddress, { timeoutMs: 10_000 });
  const recommender = createClient(RecommendationService, platform.recommenderAddress, { timeoutMs: 10_000 });
  const database = new PgClient({ connectionString: platform.databaseUrl });
  await database.connect();
  await eventually(() => recommender.popular({ count: 10 }), { accept: (reply) => reply.items.length === 10, what: 'popular items after seeding' });
  return {
    platform,
    seeded,
    ingest,
    recommender,
    database,
    stop: async () => {
      ingest.close();
      recommender.close();
      await database.end();
      await platform.stop();
    },
  };
}
