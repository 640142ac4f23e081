// The vector service: VectorService over the champion's ANN indexes, swapped whole when another
// version is promoted (build the new one aside, then replace the reference).

import type { Pool } from 'pg';
import type { OrreryConfig } from '@orrery/config';
import { bindService, startGrpcServer } from '@orrery/grpc';
import { annSearchDuration } from '@orrery/metrics';
import { watchChampion, type ChampionWatch, type ModelVersion } from '@orrery/models';
import { VectorService } from '@orrery/proto';
import { createPool, migrate } from '@orrery/store';
import { trace, withSpan, type Logger } from '@orrery/telemetry';
import { buildServingIndex, type Neighbour, type ServingIndex } from './ann-index';
import { readHiddenItemIds } from './hidden-items';
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
}

function toHits(neighbours: readonly Neighbour[], version: string) {
  return { hits: neighbours.map((hit) => ({ itemId: hit.itemId, score: hit.score, nearestItemId: hit.nearestItemId })), modelVersion: version };
}

/** Starts VectorService on config.vectorAddress, serving the registry's champion and following promotions. */
export async function startVector(config: OrreryConfig, logger: Logger, options: VectorOptions = {}): Promise<RunningVector> {
  const pool: Pool = createPool(config, logger, 4);
  let serving: ServingIndex | undefined;
  let watch: ChampionWatch | undefined;
  try {
    await migrate(pool, { logger });
    const load = async (model: ModelVersion): Promise<void> => {
      const started = Date.now();
      const next = await withSpan('vector load model', { attributes: { 'orrery.model_version': model.version, 'orrery.items': model.itemIds.length } }, async () =>
        buildServingIndex(model.version, model, await readHiddenItemIds(pool)),
      );
      // Requests in flight keep the index they started with; new ones see the new version.
      serving = next;
      logger.info({ modelVersion: model.version, items: next.size, ms: Date.now() - started }, 'vector: index swapped');
    };
    watch = await watchChampion(pool, load, { pollIntervalMs: options.pollIntervalMs ?? config.modelPollIntervalMs, logger });
  } catch (error) {
    await watch?.close();
    await pool.end();
    throw error;
  }

  const server = await startGrpcServer({
    address: config.vectorAddress,
    services: [
      bindService(VectorService, {
        searchForUser: async (request) => {
          const query = validateSearchForUser(request);
          const index = serving;
          if (!index) return { hits: [], modelVersion: '' };
          const timer = annSearchDuration.startTimer({ kind: 'for_user' });
          const neighbours = index.searchForUser(query.recentItemIds, query.count, query.excludeItemIds);
          timer();
          trace.getActiveSpan()?.setAttributes({ 'orrery.model_version': index.version, 'orrery.hits': neighbours.length });
          return toHits(neighbours, index.version);
        },
        similarTo: async (request) => {
          const query = validateSimilarTo(request);
          const index = serving;
          if (!index) return { hits: [], modelVersion: '' };
          const timer = annSearchDuration.startTimer({ kind: 'similar_to' });
          const neighbours = index.similarTo(query.itemId, query.count);
          timer();
          trace.getActiveSpan()?.setAttributes({ 'orrery.model_version': index.version, 'orrery.hits': neighbours.length });
          return toHits(neighbours, index.version);
        },
      }),
    ],
    onInternalError: (error, path) => logger.error({ err: error, path }, 'vector: request failed'),
  });

  return {
    port: server.port,
    modelVersion: () => serving?.version ?? '',
    close: async () => {
      await server.shutdown();
      await watch?.close();
      await pool.end();
    },
  };
}
