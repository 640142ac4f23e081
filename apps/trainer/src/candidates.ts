// Offline replica of the recommender's Recommend pipeline up to scoring (apps/recommender
// pipeline.ts and features.ts): ANN (the vector service's fold-in of the recent items, ranked by ALS
// affinity), co-visitation of the recent items, trending overall and in the user's favourite
// categories; seen, recent, hidden and unknown items dropped; RANKING_FEATURES per candidate.

import { foldInUser, RANKING_FEATURES, RECENT_CATEGORY_WINDOW, rankingFeatureValues, topKByScore, withAffinityTotal, writeRankingFeatures, type RankingFeatureName, type UserFeatureInputs } from '@orrery/ml';
import { recentItemWeights, type ItemEmbeddings } from '@orrery/models';
import { servableIn, type Catalog, type HistorySnapshot } from './history';

/** Items asked of each source (the recommender's candidatePoolSize for count 10). */
export const CANDIDATES_PER_SOURCE = 50;
/** Recent items the candidates are gathered from. */
export const RECENT_ITEMS = 20;
/** The user's top categories by affinity whose trending items join the candidates (half a pool each). */
export const FAVOURITE_CATEGORIES = 2;

/** Embeddings with a row lookup, built once per model. */
export interface IndexedEmbeddings extends ItemEmbeddings {
  /** Item id → unit vector (views into itemVectors). */
  readonly unitVectors: ReadonlyMap<string, Float32Array>;
}

/** Indexes embeddings by item id. */
export function indexEmbeddings(embeddings: ItemEmbeddings): IndexedEmbeddings {
  const { factors, itemIds, itemVectors, itemNorms } = embeddings;
  return {
    factors,
    itemIds,
    itemVectors,
    itemNorms,
    unitVectors: new Map(itemIds.map((itemId, row) => [itemId, itemVectors.subarray(row * factors, (row + 1) * factors)])),
  };
}

/** One candidate of one user and what each source said about it. */
export interface Candidate {
  readonly itemId: string;
  /** ALS affinity (query · raw item vector) when the ANN source proposed it. */
  readonly annScore: number | undefined;
  /**
   * As the query service merges co-visits: the score summed over the recent items it is co-visited
   * with, and the recent item that contributed most; undefined when not co-visited.
   */
  readonly coVisit: { readonly score: number; readonly sourceItemId: string; readonly best: number } | undefined;
  readonly trending: boolean;
}

/** The vector service's SearchForUser, exactly: top `count` by affinity, skipping `exclude`. */
export function annCandidates(
  recentItemIds: readonly string[],
  exclude: (itemId: string) => boolean,
  embeddings: IndexedEmbeddings,
  count: number,
): Array<{ itemId: string; score: number }> {
  const query = foldInUser(embeddings.unitVectors, recentItemWeights(recentItemIds), embeddings.factors);
  if (!query) return [];
  const { factors, itemIds, itemVectors, itemNorms } = embeddings;
  const scores = new Float32Array(itemIds.length);
  for (let row = 0; row < itemIds.length; row++) {
    let dot = 0;
    const offset = row * factors;
    for (let k = 0; k < factors; k++) dot += (query[k] as number) * (itemVectors[offset + k] as number);
    scores[row] = dot * (itemNorms[row] as number);
  }
  return topKByScore(scores, count, (row) => exclude(itemIds[row] as string)).map((row) => ({
    itemId: itemIds[row] as string,
    score: scores[row] as number,
  }));
}

/** Co-visits asked per recent item: the pool spread over the recent items, 5..100 each. */
export function coVisitsPerItem(pool: number, recentCount: number): number {
  return Math.min(100, Math.max(5, Math.ceil(pool / Math.max(1, recentCount))));
}

/** The user's recent items as the recommender reads them. */
function recentOf(userId: string, snapshot: HistorySnapshot): readonly string[] {
  return (snapshot.recentItems.get(userId) ?? []).slice(0, RECENT_ITEMS);
}

/** Proposes the candidates the recommender would score for a user, merged (one per item, first-seen order). */
export function candidatesForUser(
  userId: string,
  snapshot: HistorySnapshot,
  embeddings: IndexedEmbeddings,
  catalog: Catalog,
  pool = CANDIDATES_PER_SOURCE,
): Candidate[] {
  const seen = snapshot.seenItems.get(userId);
  const recent = recentOf(userId, snapshot);
  const recentSet = new Set(recent);
  const servable = servableIn(catalog);
  const eligible = (itemId: string): boolean => !(seen?.has(itemId) || recentSet.has(itemId)) && servable(itemId);
  type Draft = { annScore?: number; coVisit?: { score: number; sourceItemId: string; best: number }; trending: boolean };
  const merged = new Map<string, Draft>();
  const entry = (itemId: string): Draft => {
    let candidate = merged.get(itemId);
    if (!candidate) merged.set(itemId, (candidate = { trending: false }));
    return candidate;
  };

  if (recent.length > 0) {
    for (const { itemId, score } of annCandidates(recent, (id) => !eligible(id), embeddings, pool)) entry(itemId).annScore = score;
    const perItem = coVisitsPerItem(pool, recent.length);
    for (const sourceItemId of recent) {
      for (const [itemId, score] of (snapshot.coVisits.get(sourceItemId) ?? []).slice(0, perItem)) {
        if (!eligible(itemId)) continue;
        const candidate = entry(itemId);
        if (!candidate.coVisit) candidate.coVisit = { score, sourceItemId, best: score };
        else {
          candidate.coVisit.score += score;
          if (score > candidate.coVisit.best) Object.assign(candidate.coVisit, { sourceItemId, best: score });
        }
      }
    }
  }
  const trendingLists = [snapshot.trending.slice(0, pool)];
  for (const category of favouriteCategories(snapshot.categoryAffinity.get(userId))) {
    trendingLists.push((snapshot.trendingByCategory.get(category) ?? []).slice(0, Math.ceil(pool / 2)));
  }
  for (const list of trendingLists) for (const itemId of list) if (eligible(itemId)) entry(itemId).trending = true;

  return [...merged].map(([itemId, sources]) => ({ itemId, annScore: sources.annScore, coVisit: sources.coVisit, trending: sources.trending }));
}

/** The user's FAVOURITE_CATEGORIES strongest categories with positive affinity. */
function favouriteCategories(affinity: ReadonlyMap<string, number> | undefined): string[] {
  return [...(affinity ?? [])]
    .filter(([, value]) => value > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, FAVOURITE_CATEGORIES)
    .map(([category]) => category);
}

/** What a user brings to each of their candidates' features at snapshot time: computed once per user, as the recommender does per request. */
export function userFeatureInputs(userId: string, snapshot: HistorySnapshot, catalog: Catalog): UserFeatureInputs {
  const recentItemIds = recentOf(userId, snapshot);
  const recentCategories = new Set(recentItemIds.slice(0, RECENT_CATEGORY_WINDOW).flatMap((itemId) => catalog.get(itemId)?.categories ?? []));
  return withAffinityTotal({ recentItemIds, recentCategories, categoryAffinity: snapshot.categoryAffinity.get(userId), nowMs: snapshot.now });
}

/** The RANKING_FEATURES of one candidate for a user (userFeatureInputs) at snapshot time, by the function the recommender serves with. */
export function candidateFeatures(candidate: Candidate, user: UserFeatureInputs, snapshot: HistorySnapshot, catalog: Catalog): Record<RankingFeatureName, number> {
  const item = catalog.get(candidate.itemId);
  return rankingFeatureValues(
    {
      annScore: candidate.annScore,
      // As the query service merges co-visits: the summed score, held by the source contributing most.
      coVisit: candidate.coVisit,
      trendingScore: snapshot.popularity.get(candidate.itemId) ?? 0,
      interactions: snapshot.interactions.get(candidate.itemId) ?? 0,
      categories: item?.categories ?? [],
      publishedAtMs: item?.publishedAt,
      sourceCount: (candidate.annScore !== undefined ? 1 : 0) + (candidate.coVisit ? 1 : 0) + (candidate.trending ? 1 : 0),
    },
    user,
  );
}

/** The feature matrix (candidates × RANKING_FEATURES, row-major) of a user's candidates. */
export function featureRows(userId: string, candidates: readonly Candidate[], snapshot: HistorySnapshot, catalog: Catalog): Float32Array {
  const rows = new Float32Array(candidates.length * RANKING_FEATURES.length);
  const user = userFeatureInputs(userId, snapshot, catalog);
  candidates.forEach((candidate, row) => writeRankingFeatures(rows, row, candidateFeatures(candidate, user, snapshot, catalog)));
  return rows;
}
