// Request-time ranking features: one row per eligible candidate, in the column order of
// @orrery/ml's RANKING_FEATURES, computed as RANKING_FEATURE_DESCRIPTIONS defines them (the trainer
// computes the same features offline, so any drift here is training/serving skew).
import { categoryAffinityShare, RANKING_FEATURE_SCHEMA, RANKING_FEATURES, writeRankingFeatures, type RankingFeatureName } from '@orrery/ml';
import type { EligibleCandidate } from './filtering';
import type { FeatureMatrix, ItemFacts, UserFacts } from './ports';

const DAY_MS = 86_400_000;
/** is_recent_category looks at the user's last this many items. */
export const RECENT_CATEGORY_WINDOW = 5;

/** What the features of a request's candidates depend on besides the candidates themselves. */
export interface FeatureContext {
  /** Undefined when the user context could not be read (user features are then 0). */
  readonly user: UserFacts | undefined;
  /** Catalog facts of (at least) the user's last RECENT_CATEGORY_WINDOW items. */
  readonly recentItems: ReadonlyMap<string, ItemFacts>;
  readonly nowMs: number;
}

/** The ranking features of one candidate (see RANKING_FEATURE_DESCRIPTIONS). */
export function rankingFeatures(candidate: EligibleCandidate, context: FeatureContext, recentCategories: ReadonlySet<string> = recentCategoriesOf(context)): Record<RankingFeatureName, number> {
  const { item } = candidate;
  return {
    ann_score: candidate.sourceScores.similar ?? 0,
    covisit_score: Math.log1p(recencyWeightedCoVisits(candidate.coVisitedWith, context.user?.recentItemIds ?? [])),
    // The query side keeps one decayed popularity per item (the trending ranking's score).
    trending_score: Math.log1p(Math.max(0, candidate.sourceScores.trending ?? item.popularity)),
    // ItemView carries no long-half-life popularity; the lifetime interaction count is its proxy.
    log_popularity: Math.log1p(Math.max(0, item.interactions)),
    category_affinity: categoryAffinityShare(item.categories, context.user?.categoryAffinity),
    is_recent_category: item.categories.some((category) => recentCategories.has(category)) ? 1 : 0,
    log_item_age_days: logAgeDays(item.publishedAtMs, context.nowMs),
    source_count: Object.keys(candidate.sourceScores).length,
  };
}

/** Builds the row-major candidate x feature matrix for one ScoreRequest. */
export function featureMatrix(candidates: readonly EligibleCandidate[], context: FeatureContext): FeatureMatrix {
  const values = new Float32Array(candidates.length * RANKING_FEATURES.length);
  const recentCategories = recentCategoriesOf(context);
  candidates.forEach((candidate, row) => writeRankingFeatures(values, row, rankingFeatures(candidate, context, recentCategories)));
  return { rows: candidates.length, featureCount: RANKING_FEATURES.length, values, schema: RANKING_FEATURE_SCHEMA };
}

/** Σ co-visit score from the k-th most recent item (1-based) weighted 1/k; unknown sources weigh as the oldest. */
export function recencyWeightedCoVisits(coVisitedWith: ReadonlyMap<string, number>, recentItemIds: readonly string[]): number {
  let sum = 0;
  for (const [sourceItemId, score] of coVisitedWith) {
    const index = recentItemIds.indexOf(sourceItemId);
    const k = index >= 0 ? index + 1 : Math.max(1, recentItemIds.length);
    sum += Math.max(0, score) / k;
  }
  return sum;
}


/** The categories of the user's last RECENT_CATEGORY_WINDOW items (is_recent_category: the item shares one). */
function recentCategoriesOf(context: FeatureContext): Set<string> {
  const categories = new Set<string>();
  for (const itemId of context.user?.recentItemIds.slice(0, RECENT_CATEGORY_WINDOW) ?? []) {
    for (const category of context.recentItems.get(itemId)?.categories ?? []) categories.add(category);
  }
  return categories;
}

function logAgeDays(publishedAtMs: number | undefined, nowMs: number): number {
  if (publishedAtMs === undefined || publishedAtMs > nowMs) return 0;
  return Math.log1p((nowMs - publishedAtMs) / DAY_MS);
}
