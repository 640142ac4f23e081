// Request-time ranking features: one row per eligible candidate, in the column order of
// @orrery/ml's RANKING_FEATURES, computed by @orrery/ml's rankingFeatureValues — the function the
// trainer uses too; only gathering its inputs from a served candidate is done here.
import {
  RANKING_FEATURE_SCHEMA,
  RANKING_FEATURES,
  RECENT_CATEGORY_WINDOW,
  rankingFeatureValues,
  writeRankingFeatures,
  type CandidateFeatureInputs,
  type UserFeatureInputs,
} from '@orrery/ml';
import { CANDIDATE_SOURCES } from './candidates';
import type { EligibleCandidate } from './filtering';
import type { FeatureMatrix, ItemFacts, UserFacts } from './ports';

/** What the features of a request's candidates depend on besides the candidates themselves. */
export interface FeatureContext {
  /** Undefined when the user context could not be read (user features are then 0). */
  readonly user: UserFacts | undefined;
  /** Catalog facts of (at least) the user's last RECENT_CATEGORY_WINDOW items. */
  readonly recentItems: ReadonlyMap<string, ItemFacts>;
  readonly nowMs: number;
}

/** The user's side of the features (computed once per request). */
export function userFeatureInputs(context: FeatureContext): UserFeatureInputs {
  const recentItemIds = context.user?.recentItemIds ?? [];
  const recentCategories = new Set<string>();
  for (const itemId of recentItemIds.slice(0, RECENT_CATEGORY_WINDOW)) {
    for (const category of context.recentItems.get(itemId)?.categories ?? []) recentCategories.add(category);
  }
  return { recentItemIds, recentCategories, categoryAffinity: context.user?.categoryAffinity, nowMs: context.nowMs };
}

/** A served candidate's side of the features: its source scores and catalog facts. */
export function candidateFeatureInputs(candidate: EligibleCandidate): CandidateFeatureInputs {
  const { item } = candidate;
  return {
    annScore: candidate.sourceScores.similar,
    coVisitScores: candidate.coVisitedWith,
    // The query side keeps one decayed popularity per item (the trending ranking's score).
    trendingScore: candidate.sourceScores.trending ?? item.popularity,
    interactions: item.interactions,
    categories: item.categories,
    publishedAtMs: item.publishedAtMs,
    sourceCount: sourceCount(candidate),
  };
}

/** How many sources proposed the candidate (counted without allocating: this runs for every candidate of every request). */
function sourceCount(candidate: EligibleCandidate): number {
  let count = 0;
  for (const source of CANDIDATE_SOURCES) if (candidate.sourceScores[source] !== undefined) count += 1;
  return count;
}

/** Builds the row-major candidate x feature matrix for one ScoreRequest. */
export function featureMatrix(candidates: readonly EligibleCandidate[], context: FeatureContext): FeatureMatrix {
  const values = new Float32Array(candidates.length * RANKING_FEATURES.length);
  const user = userFeatureInputs(context);
  candidates.forEach((candidate, row) => writeRankingFeatures(values, row, rankingFeatureValues(candidateFeatureInputs(candidate), user)));
  return { rows: candidates.length, featureCount: RANKING_FEATURES.length, values, schema: RANKING_FEATURE_SCHEMA };
}
