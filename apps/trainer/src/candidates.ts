// Offline replica of the recommender's candidate generation and ranking features: ANN (fold-in of
// the recent items, ranked by ALS affinity as the vector service does), co-visitation and trending,
// each asked for CANDIDATES_PER_SOURCE unseen, visible items; then RANKING_FEATURES per candidate.

import {
  foldInUser,
  RANKING_FEATURES,
  topKByScore,
  writeRankingFeatures,
  type RankingFeatureName,
} from '@orrery/ml';
import { recentItemWeights, type ItemEmbeddings } from '@orrery/models';
import type { Catalog, HistorySnapshot } from './history';

/** How many items each source proposes (the recommender asks max(3 × count, 50) for count 10). */
export const CANDIDATES_PER_SOURCE = 50;
/** is_recent_category looks at the user's last this many items (as the recommender does). */
export const RECENT_CATEGORY_WINDOW = 5;

/** Embeddings with a row lookup, built once per model. */
export interface IndexedEmbeddings extends ItemEmbeddings {
  readonly rowOf: ReadonlyMap<string, number>;
  /** Item id → unit vector (views into itemVectors). */
  readonly unitVectors: ReadonlyMap<string, Float32Array>;
}

/** Indexes embeddings by item id. */
export function indexEmbeddings(embeddings: ItemEmbeddings): IndexedEmbeddings {
  const { factors, itemIds, itemVectors } = embeddings;
  return {
    factors: embeddings.factors,
    itemIds,
    itemVectors,
    itemNorms: embeddings.itemNorms,
    rowOf: new Map(itemIds.map((itemId, row) => [itemId, row])),
    unitVectors: new Map(itemIds.map((itemId, row) => [itemId, itemVectors.subarray(row * factors, (row + 1) * factors)])),
  };
}

/** One candidate of one user and the sources that proposed it. */
export interface Candidate {
  readonly itemId: string;
  /** ALS affinity (query · raw item vector) when the ANN source proposed it. */
  readonly annScore: number | undefined;
  /** Σ co-visits from the k-th most recent item weighted 1/k, when the co-visitation source proposed it. */
  readonly coVisitScore: number | undefined;
  readonly trending: boolean;
}

/** The items that the ANN source returns for a user: top `count` by affinity, unseen and visible. */
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

/** Proposes candidates for a user from the three sources, merged (one per item, in first-seen order). */
export function candidatesForUser(
  userId: string,
  snapshot: HistorySnapshot,
  embeddings: IndexedEmbeddings,
  catalog: Catalog,
  perSource = CANDIDATES_PER_SOURCE,
): Candidate[] {
  const seen = snapshot.seenItems.get(userId);
  const recent = snapshot.recentItems.get(userId) ?? [];
  const exclude = (itemId: string): boolean => (seen?.has(itemId) ?? false) || (catalog.get(itemId)?.hidden ?? false);
  const merged = new Map<string, { annScore?: number; coVisitScore?: number; trending?: boolean }>();
  const entry = (itemId: string): { annScore?: number; coVisitScore?: number; trending?: boolean } => {
    let candidate = merged.get(itemId);
    if (!candidate) merged.set(itemId, (candidate = {}));
    return candidate;
  };

  for (const { itemId, score } of annCandidates(recent, exclude, embeddings, perSource)) entry(itemId).annScore = score;

  const coVisitSums = new Map<string, number>();
  recent.forEach((sourceItemId, index) => {
    for (const [itemId, count] of snapshot.coVisits.get(sourceItemId) ?? []) {
      if (exclude(itemId)) continue;
      coVisitSums.set(itemId, (coVisitSums.get(itemId) ?? 0) + count / (index + 1));
    }
  });
  const coVisited = [...coVisitSums].sort(([aId, a], [bId, b]) => b - a || (aId < bId ? -1 : 1)).slice(0, perSource);
  for (const [itemId, sum] of coVisited) entry(itemId).coVisitScore = sum;

  let trendingTaken = 0;
  for (const itemId of snapshot.trendingRanking) {
    if (trendingTaken >= perSource) break;
    if (exclude(itemId)) continue;
    entry(itemId).trending = true;
    trendingTaken++;
  }

  return [...merged].map(([itemId, sources]) => ({
    itemId,
    annScore: sources.annScore,
    coVisitScore: sources.coVisitScore,
    trending: sources.trending ?? false,
  }));
}

/** The RANKING_FEATURES of one candidate for one user at snapshot time. */
export function candidateFeatures(
  userId: string,
  candidate: Candidate,
  snapshot: HistorySnapshot,
  catalog: Catalog,
): Record<RankingFeatureName, number> {
  const categories = catalog.get(candidate.itemId)?.categories ?? [];
  const recent = (snapshot.recentItems.get(userId) ?? []).slice(0, RECENT_CATEGORY_WINDOW);
  const publishedAt = catalog.get(candidate.itemId)?.publishedAt;
  return {
    // As served: the ANN source's score, 0 for items it did not propose.
    ann_score: candidate.annScore ?? 0,
    covisit_score: Math.log1p(candidate.coVisitScore ?? 0),
    trending_score: Math.log1p(Math.max(0, snapshot.trending.get(candidate.itemId) ?? 0)),
    log_popularity: Math.log1p(Math.max(0, snapshot.popularity.get(candidate.itemId) ?? 0)),
    category_affinity: categoryAffinityShare(categories, snapshot.categoryAffinity.get(userId)),
    is_recent_category: recent.some((itemId) => catalog.get(itemId)?.categories.some((category) => categories.includes(category))) ? 1 : 0,
    log_item_age_days: publishedAt === undefined || publishedAt > snapshot.now ? 0 : Math.log1p((snapshot.now - publishedAt) / 86_400_000),
    source_count: (candidate.annScore !== undefined ? 1 : 0) + (candidate.coVisitScore !== undefined ? 1 : 0) + (candidate.trending ? 1 : 0),
  };
}

/** Share (0–1) of the user's category affinity that falls on the item's categories. */
export function categoryAffinityShare(categories: readonly string[], affinity: ReadonlyMap<string, number> | undefined): number {
  if (!affinity || categories.length === 0) return 0;
  let total = 0;
  for (const value of affinity.values()) total += Math.max(0, value);
  if (total <= 0) return 0;
  let onItem = 0;
  for (const category of new Set(categories)) onItem += Math.max(0, affinity.get(category) ?? 0);
  return Math.min(1, onItem / total);
}

/** The feature matrix (candidates × RANKING_FEATURES, row-major) of a user's candidates. */
export function featureRows(userId: string, candidates: readonly Candidate[], snapshot: HistorySnapshot, catalog: Catalog): Float32Array {
  const rows = new Float32Array(candidates.length * RANKING_FEATURES.length);
  candidates.forEach((candidate, row) => writeRankingFeatures(rows, row, candidateFeatures(userId, candidate, snapshot, catalog)));
  return rows;
}
