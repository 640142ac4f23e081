// The vector service: VectorService over the champion's ANN indexes, swapped whole when another
// version is promoted (build the new one aside, then replace the reference).

import type { Pool } from 'pg';
import type { OrreryConfig } from '@orrery/config';
import { bindService, startGrpcServer } from '@orrery/grpc';
import { annSearchDuration } from '@orrery/metrics';
import { followChampionIndex, type ChampionIndex, type Neighbour } from '@orrery/models';
import { VectorService } from '@orrery/proto';
import { createPool, migrate } from '@orrery/store';
import { trace, type Logger } from '@orrery/telemetry';
import { followUnavailableItems, type UnavailableItems } from './unavailable-items';
import { validateSearchForUser, validateSimilarTo } from './validation';

export interface RunningVector {
  readonly port: number;
  /** Version currently served ('' before the first champion). */
  modelVersion(): string;
  close(): Promise<void>;
}

export interface VectorOptions {
  /** Fallback poll of the registry in ms (LISTEN/NOTIFY is the fast path); default config.modelPollIntervalMs. */
  readonly pollIntervalMs?: number;
  /** How often the catalog changes are read, in ms; default UNAVAILABLE_ITEMS_POLL_MS. */
  readonly unavailableItemsPollMs?: number;
}

/**
 * How often the vector service reads the catalog changes since the last read: an item hidden or
 * deleted after the champion's index was built leaves its answers within this long (Recommend and
 * SimilarItems filter every candidate through the catalog in the recommender, at once).
 */
export const UNAVAILABLE_ITEMS_POLL_MS = 1_000;

/** The answer's hits, each with the item that explains it (`explainedBy`: the nearest recent item, or the item searched from). */
function toHits(neighbours: readonly Neighbour[], version: string, explainedBy: (itemId: string) => string) {
  return { hits: neighbours.map((hit) => ({ itemId: hit.itemId, score: hit.score, nearestItemId: explainedBy(hit.itemId) })), modelVersion: version };
}

/** Starts VectorService on config.vectorAddress, serving the registry's champion and following promotions. */
export async function startVector(config: OrreryConfig, logger: Logger, options: VectorOptions = {}): Promise<RunningVector> {
  const pool: Pool = createPool(config, logger, 4);
  let champion: ChampionIndex;
  let unavailable: UnavailableItems;
  try {
    await migrate(pool, { logger });
    unavailable = await followUnavailableItems(pool, { pollIntervalMs: options.unavailableItemsPollMs ?? UNAVAILABLE_ITEMS_POLL_MS, logger });
    champion = await followChampionIndex(pool, { pollIntervalMs: options.pollIntervalMs ?? config.modelPollIntervalMs, logger }).catch((error: unknown) => {
      unavailable.close();
      throw error;
    });
  } catch (error) {
    await pool.end();
    throw error;
  }

  const server = await startGrpcServer({
    address: config.vectorAddress,
    services: [
      bindService(VectorService, {
        searchForUser: async (request) => {
          const query = validateSearchForUser(request);
          const index = champion.current();
          if (!index) return { hits: [], modelVersion: '' };
          const timer = annSearchDuration.startTimer({ kind: 'for_user' });
          const { hits, nearestRecentItem } = index.searchForUser(query.recentItemIds, query.count, [...query.excludeItemIds, ...unavailable.heldBy(index)]);
          timer();
          trace.getActiveSpan()?.setAttributes({ 'orrery.model_version': index.version, 'orrery.hits': hits.length });
          return toHits(hits, index.version, nearestRecentItem);
        },
        similarTo: async (request) => {
          const query = validateSimilarTo(request);
          const index = champion.current();
          if (!index) return { hits: [], modelVersion: '' };
          const timer = annSearchDuration.startTimer({ kind: 'similar_to' });
          const neighbours = index.similarTo(query.itemId, query.count, unavailable.heldBy(index));
          timer();
          trace.getActiveSpan()?.setAttributes({ 'orrery.model_version': index.version, 'orrery.hits': neighbours.length });
          return toHits(neighbours, index.version, () => query.itemId);
        },
      }),
    ],
    onInternalError: (error, path) => logger.error({ err: error, path }, 'vector: request failed'),
  });

  return {
    port: server.port,
    modelVersion: () => champion.current()?.version ?? '',
    close: async () => {
      await server.shutdown();
      unavailable.close();
      await champion.close();
      await pool.end();
    },
  };
}
