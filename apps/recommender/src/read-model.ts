// The recommender's reads, in process: the Redis projections through the same reader query serves
// them with, and the champion's ANN index searched in this process. No network hop but Redis' on the
// hot path (see README "Serving path"); query and vector still serve the same reads over gRPC to
// other callers.
import { mergeCoVisitsAs, watchForChanges, type CoVisit, type ItemProjection, type ProjectionReader, type UserProjection } from '@orrery/projections';
import { annSearchDuration } from '@orrery/metrics';
import type { Neighbour, ServingIndex } from '@orrery/models';
import { withSpan } from '@orrery/telemetry';
import { cachedBatchLookup, type TtlCacheOptions } from './shared-reads-cache';
import type { Candidates, CoVisitation, Features, ItemFacts, SourcedItem, Trending, UserContextSource, UserFacts, VectorNeighbours } from './ports';

/** How many recent interactions are read per user. */
export const RECENT_LIMIT = 20;

/** Every read the pipelines make, over a projection reader and the index being served. */
export type ReadModel = UserContextSource & Features & CoVisitation & Trending & Candidates;

/**
 * The pipelines' reads over `reader` and `index()` (undefined before a model is promoted: no ANN
 * candidates). Catalog facts, co-visitation lists and trending rankings are the same for every user
 * and are reused for `cache.ttlMs` (shared-reads-cache.ts); the user's own reads never are. Catalog
 * facts are dropped sooner, when `catalogGeneration()` moves (followCatalogChanges): a hidden or
 * deleted item is filtered out by them, whatever stale co-visit list or ranking still holds it.
 */
export function readModel(reader: ProjectionReader, index: () => ServingIndex | undefined, cache: TtlCacheOptions, catalogGeneration: () => number): ReadModel {
  const items = cachedBatchLookup(async (itemIds) => new Map((await reader.items(itemIds)).map((item) => [item.itemId, toItemFacts(item)])), {
    ...cache,
    unchanged: sameItemFacts,
    generation: catalogGeneration,
  });
  // Keyed `<count>\n<item or category>`: one cached answer per size read (co-visits are read in a few
  // fixed depths, so users with few and many recent items share them).
  const coVisitLists = cachedBatchLookup(async (keys) => {
    const answers = new Map<string, readonly CoVisit[]>();
    for (const [count, itemIds] of groupByCount(keys)) {
      for (const [itemId, coVisits] of await reader.coVisits(itemIds, count)) answers.set(sizedKey(count, itemId), coVisits);
    }
    return answers;
  }, { ...cache, unchanged: sameScoredList<CoVisit> });
  const trendingRankings = cachedBatchLookup(async (keys) => {
    const rankings = await Promise.all(
      [...groupByCount(keys)].flatMap(([count, categories]) =>
        categories.map(async (category) => {
          const ranking = await reader.trending(category, count);
          return [sizedKey(count, category), ranking.map(({ itemId, score }): SourcedItem => ({ itemId, score, becauseOfItemId: '' }))] as const;
        }),
      ),
    );
    return new Map(rankings);
  }, { ...cache, unchanged: sameScoredList<SourcedItem> });

  return {
    userContext: async (userId) => toUserFacts(userId, await reader.user(userId, RECENT_LIMIT)),
    items: (itemIds) => items(itemIds),
    coVisited: async (itemIds, countPerItem) => {
      const sources = [...new Set(itemIds)];
      const depth = coVisitReadDepth(countPerItem);
      const lists = await coVisitLists(sources.map((itemId) => sizedKey(depth, itemId)));
      const bySource = new Map(sources.map((itemId, index) => [itemId, (lists[index] ?? []).slice(0, countPerItem)]));
      return mergeCoVisitsAs(bySource, (itemId, score, becauseOfItemId): SourcedItem => ({ itemId, score, becauseOfItemId }));
    },
    trending: async (count, category) => (await trendingRankings([sizedKey(count, category)]))[0] ?? [],
    similarForUser: (recentItemIds, count, excludeItemIds) =>
      searchTimed(index(), 'for_user', (served) => {
        const { hits, nearestRecentItem } = served.searchForUser(recentItemIds, count, excludeItemIds);
        return { hits, becauseOfItemId: '', explainedBy: nearestRecentItem };
      }),
    similarTo: (itemId, count) => searchTimed(index(), 'similar_to', (served) => ({ hits: served.similarTo(itemId, count), becauseOfItemId: itemId })),
  };
}

/** The generation of the catalog facts being served, and how to stop following it. */
export interface CatalogGeneration {
  current(): number;
  stop(): void;
}

/**
 * Polls reader.catalogChanges every `pollMs` and moves the generation whenever the token moves (the
 * first answer moves it too: facts read before it may predate a change). A failed poll is reported
 * once until one succeeds again; meanwhile the generation stays, and the cache's TTL and stale window still bound the facts' age.
 */
export function followCatalogChanges(reader: Pick<ProjectionReader, 'catalogChanges'>, pollMs: number, onError: (error: unknown) => void): CatalogGeneration {
  let generation = 0;
  let failing = false;
  const readToken = async (): Promise<string> => {
    const token = await reader.catalogChanges();
    failing = false;
    return token;
  };
  const stop = watchForChanges(
    readToken,
    { intervalMs: pollMs, immediately: true },
    () => {
      generation += 1;
    },
    (error) => {
      if (!failing) onError(error);
      failing = true;
    },
  );
  return { current: () => generation, stop };
}

/**
 * Scores that differ by less than this share count as unchanged when a cached value is refreshed.
 * Decay alone moves every score by ~3·10⁻⁶ per second at the default 72 h half-life of popularity
 * (the same factor for all of them, so no ranking changes), ~6·10⁻⁷ at co-visits' 336 h: a refresh
 * of a value nothing was added to keeps the cached copy for ~40 s (popularity, trending) or ~3 min
 * (co-visits), then takes the new one.
 */
export const UNCHANGED_SCORE_TOLERANCE = 1e-4;

function sameScore(cached: number, fetched: number): boolean {
  return Math.abs(cached - fetched) <= UNCHANGED_SCORE_TOLERANCE * Math.max(Math.abs(cached), Math.abs(fetched));
}

/** Same items in the same order, with the same scores (within UNCHANGED_SCORE_TOLERANCE). */
export function sameScoredList<T extends { readonly itemId: string; readonly score: number }>(cached: readonly T[], fetched: readonly T[]): boolean {
  return cached.length === fetched.length && cached.every((entry, index) => entry.itemId === fetched[index]!.itemId && sameScore(entry.score, fetched[index]!.score));
}

/** The same catalog facts and counts, and popularity within UNCHANGED_SCORE_TOLERANCE. */
export function sameItemFacts(cached: ItemFacts, fetched: ItemFacts): boolean {
  return (
    cached.exists === fetched.exists &&
    cached.hidden === fetched.hidden &&
    cached.interactions === fetched.interactions &&
    cached.publishedAtMs === fetched.publishedAtMs &&
    cached.categories.length === fetched.categories.length &&
    cached.categories.every((category, index) => category === fetched.categories[index]) &&
    sameScore(cached.popularity, fetched.popularity)
  );
}

/** The shallowest co-visit list depth read: most requests ask for 5–50 per item. */
export const MIN_COVISIT_READ_DEPTH = 50;

/** How deep a co-visit list is read (and cached) to answer `countPerItem`: 50, 100, 200, … */
export function coVisitReadDepth(countPerItem: number): number {
  let depth = MIN_COVISIT_READ_DEPTH;
  while (depth < countPerItem) depth *= 2;
  return depth;
}

function sizedKey(count: number, id: string): string {
  return `${count}\n${id}`;
}

/** `<count>\n<id>` keys grouped by count (ids never hold a newline: ingestion refuses control characters). */
function groupByCount(keys: readonly string[]): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const key of keys) {
    const cut = key.indexOf('\n');
    const count = Number(key.slice(0, cut));
    const ids = groups.get(count) ?? [];
    ids.push(key.slice(cut + 1));
    groups.set(count, ids);
  }
  return groups;
}

/** What one ANN search found: the hits, explained by one item or on demand (VectorNeighbours.explainedBy). */
interface Search {
  readonly hits: readonly Neighbour[];
  readonly becauseOfItemId: string;
  readonly explainedBy?: (itemId: string) => string;
}

/** Searches the served index under an `ann search` span and the ANN latency histogram; no index yet → no neighbours. */
async function searchTimed(index: ServingIndex | undefined, kind: 'for_user' | 'similar_to', search: (index: ServingIndex) => Search): Promise<VectorNeighbours> {
  if (!index) return { items: [], modelVersion: '' };
  return withSpan('ann search', { attributes: { 'orrery.ann.kind': kind, 'orrery.model_version': index.version } }, async (span) => {
    const timer = annSearchDuration.startTimer({ kind });
    const { hits, becauseOfItemId, explainedBy } = search(index);
    timer();
    span.setAttribute('orrery.hits', hits.length);
    const items = hits.map((hit): SourcedItem => ({ itemId: hit.itemId, score: hit.score, becauseOfItemId }));
    return explainedBy ? { items, modelVersion: index.version, explainedBy } : { items, modelVersion: index.version };
  });
}

/** A user's projection as the pipelines see it (recent items distinct, newest first). */
export function toUserFacts(userId: string, user: UserProjection): UserFacts {
  return {
    userId,
    known: user.known,
    recentItemIds: [...new Set(user.recent.map((entry) => entry.itemId).filter(Boolean))],
    seenItemIds: user.seenItemIds,
    categoryAffinity: user.categoryAffinity,
    eventCounts: new Map([...user.eventCounts].map(([type, count]) => [type, Number(count)])),
  };
}

/** An item's projection as the pipelines see it (exists = the catalog knows it). */
export function toItemFacts(item: ItemProjection): ItemFacts {
  return {
    itemId: item.itemId,
    exists: item.catalog !== undefined,
    hidden: item.catalog?.hidden ?? false,
    categories: item.catalog?.categories ?? [],
    publishedAtMs: item.catalog?.publishedAtMs,
    popularity: item.popularity,
    interactions: Number(item.interactions),
  };
}
