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

/** A catalog change: the item became unavailable (hidden or deleted) or available (upserted visible). */
export interface AvailabilityChange {
  readonly itemId: string;
  readonly unavailable: boolean;
  /** Its commit sequence (text: a bigint). */
  readonly sequence: string;
}

/** The highest commit sequence of a catalog change ('0' when none): where readAvailabilityChanges goes on from. */
export async function latestCatalogSequence(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ sequence: string }>(
    'SELECT greatest(coalesce((SELECT max(sequence) FROM items), 0), coalesce((SELECT max(sequence) FROM deleted_items), 0))::text AS sequence',
  );
  return rows[0]!.sequence;
}

/**
 * The catalog changes committed after `afterSequence`, in commit order: each item's state as of its
 * last change (an upsert removes its deletion's tombstone, a deletion its row, and the commit-order
 * lock makes sequences visible in order, so nothing below the last one read can appear later).
 */
export async function readAvailabilityChanges(pool: Pool, afterSequence: string): Promise<AvailabilityChange[]> {
  const { rows } = await pool.query<{ item_id: string; unavailable: boolean; sequence: string }>(
    `SELECT item_id, hidden AS unavailable, sequence::text FROM items WHERE sequence > $1
     UNION ALL
     SELECT item_id, true, sequence::text FROM deleted_items WHERE sequence > $1
     ORDER BY sequence`,
    [afterSequence],
  );
  return rows.map((row) => ({ itemId: row.item_id, unavailable: row.unavailable, sequence: row.sequence }));
}
