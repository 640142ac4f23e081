// The champion's ANN index kept current in process: loaded from the registry at start and rebuilt
// aside, then swapped whole, whenever another version is promoted. Used by the vector service and by
// the recommender (which searches it in process on the hot path).
import type { Pool } from 'pg';
import { withSpan, type Logger } from '@orrery/telemetry';
import { buildServingIndex, type ServingIndex } from './ann-index';
import { watchChampion, type ChampionWatch } from './watch';

export interface ChampionIndex {
  /** The index of the version being served; undefined before the first champion. */
  current(): ServingIndex | undefined;
  close(): Promise<void>;
}

/**
 * Follows the registry's champion (LISTEN/NOTIFY plus a poll every `pollIntervalMs`), building each
 * version's index without the items the catalog hides or deleted (readUnavailableItemIds). Requests in flight keep the index they
 * started with; new ones see the new version. Throws when the registry cannot be read at start.
 */
export async function followChampionIndex(pool: Pool, options: { readonly pollIntervalMs: number; readonly logger: Logger }): Promise<ChampionIndex> {
  let serving: ServingIndex | undefined;
  const watch: ChampionWatch = await watchChampion(
    pool,
    async (model) => {
      const started = Date.now();
      serving = await withSpan('load model index', { attributes: { 'orrery.model_version': model.version, 'orrery.items': model.itemIds.length } }, async () =>
        buildServingIndex(model.version, model, await readUnavailableItemIds(pool)),
      );
      options.logger.info({ modelVersion: model.version, items: serving.size, ms: Date.now() - started }, 'ANN index swapped');
    },
    { pollIntervalMs: options.pollIntervalMs, logger: options.logger },
  );
  return { current: () => serving, close: () => watch.close() };
}

/**
 * Ids of the items no search may return: those the catalog hides, and those DeleteItem removed (a
 * model trained before the deletion still holds their embeddings).
 */
export async function readUnavailableItemIds(pool: Pool): Promise<Set<string>> {
  const { rows } = await pool.query<{ item_id: string }>('SELECT item_id FROM items WHERE hidden UNION ALL SELECT item_id FROM deleted_items');
  return new Set(rows.map((row) => row.item_id));
}
