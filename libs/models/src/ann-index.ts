// The champion's item embeddings in two in-process HNSW indexes (usearch):
// - inner product over the raw item vectors (unit row × norm), for SearchForUser: the score is the
//   ALS affinity of the folded-in user query, which ranks twice as well offline as cosine (trainer
//   metrics) and is the ann_score ranking feature;
// - cosine over the unit vectors, for SimilarTo (item-to-item similarity).
// Hidden and deleted items are never added, so they are never returned (the vector service also leaves
// out those hidden or deleted after the index was built).

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { foldInUser } from '@orrery/ml';
import { rawItemVectors, recentItemWeights, type ItemEmbeddings } from './serving';

/** One neighbour found. */
export interface Neighbour {
  readonly itemId: string;
  readonly score: number;
}

/** What a search for a user found, and what explains each hit. */
export interface UserNeighbours {
  readonly hits: Neighbour[];
  /**
   * Of the user's newest EXPLAINING_RECENT_ITEMS items, the one whose vector is closest (cosine) to
   * `itemId`'s ('' for an item not in the index). Computed when asked: explaining every hit took a
   * third of a search (600 items, 140 hits: 108–129 µs a search with, 77–79 µs without), and the
   * recommender returns ~10 of them.
   */
  nearestRecentItem(itemId: string): string;
}

/**
 * A SearchForUser hit is explained by the nearest of the user's newest this many items (with a
 * vector). They carry most of the folded-in query's weight (half-life 2 positions: the 6th weighs
 * 0.125), and comparing each of ~100 hits with 20 items instead cost 4× the CPU for explanations
 * naming items the user saw long ago.
 */
export const EXPLAINING_RECENT_ITEMS = 5;

/**
 * HNSW parameters: 32 links per node, wide construction; a query explores at least 64 candidates.
 * At the recommender's depth (~140 neighbours) 16 links kept 0.856 of the exact inner-product top 140
 * on 15,560 items × 32 factors, 32 links 0.969, for ~20 µs more a search (p50 247 → 269 µs) and a
 * build 16% longer (docs/benchmarks.md, ANN recall).
 */
const HNSW = { connectivity: 32, expansionAdd: 128, expansionSearch: 64 };
/**
 * Room for excluded hits in a first search, as a share of the neighbours asked for: at count 140 it
 * searches for up to 280. Synthetic users of 15,000 items with ~400 distinct seen items (ALS pulls a
 * user's seen items close to their folded-in query) needed 71–140 extra places in 58% of searches,
 * fewer in 25%, more in 17% (docs/benchmarks.md, ANN exclusions).
 */
export const EXCLUSION_ROOM_SHARE = 1;
/** A search for a user with no recent item in the index finds nothing. */
const NO_USER_NEIGHBOURS: UserNeighbours = { hits: [], nearestRecentItem: () => '' };

/** Vectors added per event-loop turn while building, so a rebuild never stalls requests for long. */
const BUILD_CHUNK = 1_000;

/** A searchable, immutable snapshot of one model version. */
export interface ServingIndex {
  readonly version: string;
  /** Items in the indexes (visible items with a vector). */
  readonly size: number;
  /** Whether the item is in the indexes (so a search could return it). */
  holds(itemId: string): boolean;
  searchForUser(recentItemIdsNewestFirst: readonly string[], count: number, excludeItemIds: readonly string[]): UserNeighbours;
  /** The item's nearest neighbours, never the item itself nor `excludeItemIds`. */
  similarTo(itemId: string, count: number, excludeItemIds?: readonly string[]): Neighbour[];
}

function newIndex(dimensions: number, metric: MetricKind): Index {
  return new Index({
    dimensions,
    metric,
    quantization: ScalarKind.F32,
    connectivity: HNSW.connectivity,
    expansion_add: HNSW.expansionAdd,
    expansion_search: HNSW.expansionSearch,
    multi: false,
  });
}

/** Adds rows `rows` of a row-major matrix under their row numbers, a chunk per event-loop turn. */
async function addRows(index: Index, matrix: Float32Array, factors: number, rows: readonly number[]): Promise<void> {
  for (let start = 0; start < rows.length; start += BUILD_CHUNK) {
    const chunk = rows.slice(start, start + BUILD_CHUNK);
    const vectors = new Float32Array(chunk.length * factors);
    chunk.forEach((row, i) => vectors.set(matrix.subarray(row * factors, (row + 1) * factors), i * factors));
    index.add(BigUint64Array.from(chunk, BigInt), vectors, 1);
    await yieldToEventLoop();
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The keys of a search answer as the row numbers they are. Reading a BigUint64Array element makes a
 * BigInt (with for-of, ~65 bytes a hit: ~9 KB per SearchForUser); keys here are row numbers, below
 * 2^32, so on a little-endian machine each key's low 32-bit word is read instead.
 */
export function keysAsRows(keys: BigUint64Array): Uint32Array {
  const rows = new Uint32Array(keys.length);
  if (LITTLE_ENDIAN) {
    const words = new Uint32Array(keys.buffer, keys.byteOffset, keys.length * 2);
    for (let hit = 0; hit < keys.length; hit++) rows[hit] = words[hit * 2]!;
  } else {
    for (let hit = 0; hit < keys.length; hit++) rows[hit] = Number(keys[hit]);
  }
  return rows;
}

/** The first `count` rows of the `wanted` nearest neighbours of `query` that are not `excluded`. */
function bestNotExcluded(index: Index, query: Float32Array, wanted: number, count: number, excluded: ReadonlySet<number>): number[] {
  const hits = keysAsRows(index.search(query, wanted, 1).keys);
  const rows: number[] = [];
  for (let hit = 0; hit < hits.length && rows.length < count; hit++) {
    const row = hits[hit]!;
    if (!excluded.has(row)) rows.push(row);
  }
  return rows;
}

function dot(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, length: number): number {
  let sum = 0;
  for (let k = 0; k < length; k++) sum += (a[aOffset + k] as number) * (b[bOffset + k] as number);
  return sum;
}

/** Builds both indexes of a model version, leaving out `unavailableItemIds` (hidden and deleted items). */
export async function buildServingIndex(version: string, embeddings: ItemEmbeddings, unavailableItemIds: ReadonlySet<string>): Promise<ServingIndex> {
  const { factors, itemIds, itemVectors } = embeddings;
  const raw = rawItemVectors(embeddings);
  const rowOf = new Map(itemIds.map((itemId, row) => [itemId, row]));
  const unitVectors = new Map(itemIds.map((itemId, row) => [itemId, itemVectors.subarray(row * factors, (row + 1) * factors)]));
  const visibleRows = itemIds.flatMap((itemId, row) => (unavailableItemIds.has(itemId) ? [] : [row]));
  const byAffinity = newIndex(factors, MetricKind.IP);
  const bySimilarity = newIndex(factors, MetricKind.Cos);
  await addRows(byAffinity, raw, factors, visibleRows);
  await addRows(bySimilarity, itemVectors, factors, visibleRows);
  const size = visibleRows.length;

  /**
   * The best `count` rows of `index` for `query` that are not `excluded`. Asking for `count` plus
   * every excluded item in the index is always enough, but a user's seen items are many (up to the
   * seen list's 500) and searching costs about linearly in the neighbours asked for (15,000 items:
   * ~170 µs for 140, ~510 µs for 640). So the first search leaves room for at most
   * EXCLUSION_ROOM_SHARE × count excluded hits, and only when more of its hits than that were
   * excluded does a second search ask for every one.
   */
  const searchExcluding = (index: Index, query: Float32Array, count: number, excluded: ReadonlySet<number>): number[] => {
    let excludedInIndex = 0;
    for (const row of excluded) if (!unavailableItemIds.has(itemIds[row] as string)) excludedInIndex++;
    const enough = Math.min(size, count + excludedInIndex);
    if (count <= 0 || enough <= 0) return [];
    const first = Math.min(enough, count + Math.ceil(EXCLUSION_ROOM_SHARE * count));
    const rows = bestNotExcluded(index, query, first, count, excluded);
    return rows.length >= count || first === enough ? rows : bestNotExcluded(index, query, enough, count, excluded);
  };

  /** `rows` with the rows of `excludeItemIds` added (ids not in the index are ignored). */
  const withRowsOf = (rows: Set<number>, excludeItemIds: readonly string[]): Set<number> => {
    for (const itemId of excludeItemIds) {
      const row = rowOf.get(itemId);
      if (row !== undefined) rows.add(row);
    }
    return rows;
  };

  return {
    version,
    size,
    holds: (itemId) => rowOf.has(itemId) && !unavailableItemIds.has(itemId),
    searchForUser: (recentItemIdsNewestFirst, count, excludeItemIds) => {
      const weighted = recentItemWeights(recentItemIdsNewestFirst);
      const query = foldInUser(unitVectors, weighted, factors);
      if (!query) return NO_USER_NEIGHBOURS;
      const recentRows: number[] = [];
      for (const { itemId } of weighted) {
        const row = rowOf.get(itemId);
        if (row !== undefined) recentRows.push(row);
      }
      const excluded = withRowsOf(new Set<number>(recentRows), excludeItemIds);
      const explainingRows = recentRows.slice(0, EXPLAINING_RECENT_ITEMS);
      const hits = searchExcluding(byAffinity, query, count, excluded).map((row) => ({ itemId: itemIds[row] as string, score: dot(query, 0, raw, row * factors, factors) }));
      const nearestRecentItem = (itemId: string): string => {
        const row = rowOf.get(itemId);
        let nearestItemId = '';
        if (row === undefined) return nearestItemId;
        let nearest = -Infinity;
        for (const recentRow of explainingRows) {
          const cosine = dot(itemVectors, row * factors, itemVectors, recentRow * factors, factors);
          if (cosine > nearest) {
            nearest = cosine;
            nearestItemId = itemIds[recentRow] as string;
          }
        }
        return nearestItemId;
      };
      return { hits, nearestRecentItem };
    },
    similarTo: (itemId, count, excludeItemIds = []) => {
      const row = rowOf.get(itemId);
      if (row === undefined) return [];
      const query = itemVectors.subarray(row * factors, (row + 1) * factors);
      return searchExcluding(bySimilarity, query, count, withRowsOf(new Set([row]), excludeItemIds)).map((neighbour) => ({
        itemId: itemIds[neighbour] as string,
        score: dot(itemVectors, neighbour * factors, itemVectors, row * factors, factors),
      }));
    },
  };
}
