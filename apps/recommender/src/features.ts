// Request-time ranking features: one row per eligible candidate, in the column order of
// @orrery/ml's RANKING_FEATURES, computed by @orrery/ml's writeCandidateFeatures — the computation
// the trainer uses too (through rankingFeatureValues); only gathering its inputs from a served
// candidate is done here.
import {
  RANKING_FEATURE_SCHEMA,
  RANKING_FEATURES,
  RECENT_CATEGORY_WINDOW,
  writeCandidateFeatures,
  withAffinityTotal,
  type CandidateFeatureInputs,
  type CoVisitSource,
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
  return withAffinityTotal({ recentItemIds, recentCategories, categoryAffinity: context.user?.categoryAffinity, nowMs: context.nowMs });
}

/**
 * A served candidate's side of the features (its source scores and catalog facts), filled from a
 * candidate by `load`. featureMatrix refills one for every row: an object per candidate was ~30 KB
 * of garbage per request.
 */
export class ServedCandidateInputs implements CandidateFeatureInputs {
  annScore: number | undefined = undefined;
  coVisit: CoVisitSource | undefined = undefined;
  trendingScore = 0;
  interactions = 0;
  categories: readonly string[] = [];
  publishedAtMs: number | undefined = undefined;
  sourceCount = 0;

  /** Takes `candidate`'s inputs in place of the previous ones. */
  load(candidate: EligibleCandidate): this {
    const { item } = candidate;
    this.annScore = candidate.sourceScores.similar;
    this.coVisit = candidate.coVisit;
    // The query side keeps one decayed popularity per item (the trending ranking's score).
    this.trendingScore = candidate.sourceScores.trending ?? item.popularity;
    this.interactions = item.interactions;
    this.categories = item.categories;
    this.publishedAtMs = item.publishedAtMs;
    this.sourceCount = sourceCount(candidate);
    return this;
  }
}

/** A served candidate's side of the features: its source scores and catalog facts. */
export function candidateFeatureInputs(candidate: EligibleCandidate): CandidateFeatureInputs {
  return new ServedCandidateInputs().load(candidate);
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
  const inputs = new ServedCandidateInputs();
  for (let row = 0; row < candidates.length; row++) writeCandidateFeatures(values, row, inputs.load(candidates[row]!), user);
  return { rows: candidates.length, featureCount: RANKING_FEATURES.length, values, schema: RANKING_FEATURE_SCHEMA };
}
