// The recommendation pipelines: gather candidates from every source in parallel, merge, filter,
// score, diversify and explain. Every downstream call goes through callDownstream, so a failed or
// slow part degrades the answer (and says so) instead of failing it.
import {
  candidatePoolSize,
  coVisitedBatch,
  countBySource,
  mergeCandidates,
  similarBatch,
  trendingBatch,
  withSimilarExplained,
  type Candidate,
  type CandidateSource,
  type SourceBatch,
} from './candidates';
import { callDownstream, skipped, type DownstreamBudget, type Outcome } from './downstream';
import { RECENT_CATEGORY_WINDOW } from '@orrery/ml';
import { featureMatrix } from './features';
import { eligibleCandidates, idSet, withoutItemIds, type EligibleCandidate } from './filtering';
import type { Candidates, CoVisitation, Features, ItemFacts, Scorer, Scores, SourcedItem, Trending, UserContextSource, UserFacts, VectorNeighbours } from './ports';
import { diversify, fallbackScores, firstRanked, rankedByScore, type RankedCandidate } from './ranking';
import type { ItemFilter, PopularQuery, RecommendQuery, SimilarItemsQuery } from './validation';

/** Everything the pipelines read from: the small interfaces of ports.ts. */
export interface RecommenderPorts {
  readonly users: UserContextSource;
  readonly features: Features;
  readonly candidates: Candidates;
  readonly coVisitation: CoVisitation;
  readonly trending: Trending;
  readonly scorer: Scorer;
}

/** One returned item. */
export interface RecommendedItem {
  readonly itemId: string;
  readonly score: number;
  readonly reasons: readonly string[];
}

/** How the ranking was decided: by the model, by the fallback blend of source scores, or by popularity. */
export type RankingMethod = 'model' | 'fallback' | 'popularity' | 'none';

/** What happened inside one request (for span attributes and logs). */
export interface PipelineStats {
  readonly candidatesBySource: Readonly<Record<CandidateSource, number>>;
  readonly merged: number;
  readonly eligible: number;
  readonly ranking: RankingMethod;
}

/** The answer of one pipeline, ready to become a RecommendResponse. */
export interface RecommendationList {
  readonly items: readonly RecommendedItem[];
  readonly modelVersion: string;
  /** Non-empty when a downstream part failed; one `<part> unavailable: <why>` each. */
  readonly degradedReasons: readonly string[];
  readonly stats: PipelineStats;
}

/** Per-category trending rankings fetched at most per request; more categories fall back to the overall ranking. */
export const MAX_CATEGORY_TRENDING_CALLS = 20;
/** The user's top categories by affinity whose trending items join the candidates. */
export const FAVOURITE_CATEGORIES = 2;
/** Seen items passed to the vector search to exclude (the rest are filtered here anyway). */
export const MAX_VECTOR_EXCLUDES = 1_000;
/** Recent items the user's candidates are gathered from. */
export const RECENT_ITEMS = 20;

/**
 * Recommend: the user's recent items drive ANN and co-visitation candidates, trending (overall,
 * per favourite and per included category) fills in; seen, hidden, unknown and filtered-out items
 * are dropped; the rest are scored in one batch (fallback blend when scoring fails) and spread over
 * categories. An unknown user gets trending items.
 */
export async function recommend(ports: RecommenderPorts, query: RecommendQuery, budget: DownstreamBudget): Promise<RecommendationList> {
  const degraded = new DegradedReasons();
  const pool = candidatePoolSize(query.count);
  const included = [...query.filter.includeCategories];

  const userCall = callDownstream('user context', budget, (limits) => ports.users.userContext(query.userId, limits));
  const trendingCall = trendingBatches(ports.trending, ['', ...included.slice(0, MAX_CATEGORY_TRENDING_CALLS)], pool, budget);

  const user = degraded.valueOr(await userCall, undefined);
  const recent = (user?.recentItemIds ?? []).slice(0, RECENT_ITEMS);
  const excluded = idSet(user?.seenItemIds ?? [], recent, query.filter.excludeItemIds);
  const favourites = included.length === 0 ? favouriteCategories(user, query.filter, FAVOURITE_CATEGORIES) : [];

  const [vectorOutcome, coVisitOutcome, favouriteBatches] = await Promise.all([
    recent.length === 0
      ? skipped<VectorNeighbours | undefined>(undefined)
      : callDownstream('vector', budget, (limits) => ports.candidates.similarForUser(recent, pool, [...excluded].slice(0, MAX_VECTOR_EXCLUDES), limits)),
    recent.length === 0
      ? skipped<readonly SourcedItem[]>([])
      : callDownstream('co-visitation', budget, (limits) => ports.coVisitation.coVisited(recent, coVisitsPerItem(pool, recent.length), limits)),
    trendingBatches(ports.trending, favourites, Math.ceil(pool / 2), budget),
  ]);
  const vector = degraded.valueOr(vectorOutcome, undefined);
  const coVisits = degraded.valueOr(coVisitOutcome, []);
  const trending = degraded.batches(await trendingCall);
  const batches = [similarBatch(vector?.items ?? []), coVisitedBatch(coVisits), ...trending, ...degraded.batches(favouriteBatches)];

  const candidates = withoutItemIds(mergeCandidates(batches), excluded);
  const eligible = await lookUpEligible(ports.features, candidates, recent.slice(0, RECENT_CATEGORY_WINDOW), query.filter, budget, degraded);
  const stats = { candidatesBySource: countBySource(batches), merged: candidates.length };
  if (!eligible || eligible.candidates.length === 0) {
    return { items: [], modelVersion: vector?.modelVersion ?? '', degradedReasons: degraded.list(), stats: { ...stats, eligible: 0, ranking: 'none' } };
  }

  const matrix = featureMatrix(eligible.candidates, { user, recentItems: eligible.items, nowMs: budget.now() });
  const scored = degraded.valueOr(
    await callDownstream('scoring', budget, async (limits) => checkScores(await ports.scorer.score(matrix, limits), matrix.rows)),
    undefined,
  );
  const ranked = rankedByScore(eligible.candidates, scored?.scores ?? fallbackScores(eligible.candidates));
  return {
    items: diversify(ranked, query.count).map((candidate) => toRecommendedItem(candidate, vector?.explainedBy)),
    modelVersion: scored?.modelVersion || vector?.modelVersion || '',
    degradedReasons: degraded.list(),
    stats: { ...stats, eligible: eligible.candidates.length, ranking: scored ? 'model' : 'fallback' },
  };
}

/**
 * SimilarItems: the item's ANN neighbours and co-visited items, merged and filtered (never the item
 * itself), ranked by the blend of their source scores.
 */
export async function similarItems(ports: RecommenderPorts, query: SimilarItemsQuery, budget: DownstreamBudget): Promise<RecommendationList> {
  const degraded = new DegradedReasons();
  const pool = candidatePoolSize(query.count);
  const [vectorOutcome, coVisitOutcome] = await Promise.all([
    callDownstream('vector', budget, (limits) => ports.candidates.similarTo(query.itemId, pool, limits)),
    callDownstream('co-visitation', budget, (limits) => ports.coVisitation.coVisited([query.itemId], pool, limits)),
  ]);
  const vector = degraded.valueOr(vectorOutcome, undefined);
  const batches = [similarBatch(vector?.items ?? [], query.itemId), coVisitedBatch(degraded.valueOr(coVisitOutcome, []), query.itemId)];
  const excluded = idSet([query.itemId], query.filter.excludeItemIds);
  const candidates = withoutItemIds(mergeCandidates(batches), excluded);
  const eligible = await lookUpEligible(ports.features, candidates, [], query.filter, budget, degraded);
  const eligibleCount = eligible?.candidates.length ?? 0;
  const ranked = eligible ? firstRanked(rankedByScore(eligible.candidates, fallbackScores(eligible.candidates)), query.count) : [];
  return {
    items: ranked.map((candidate) => toRecommendedItem(candidate)),
    modelVersion: vector?.modelVersion ?? '',
    degradedReasons: degraded.list(),
    stats: { candidatesBySource: countBySource(batches), merged: candidates.length, eligible: eligibleCount, ranking: eligibleCount ? 'fallback' : 'none' },
  };
}

/** Popular: the trending ranking (per included category, merged, when the filter names categories), filtered. */
export async function popular(ports: RecommenderPorts, query: PopularQuery, budget: DownstreamBudget): Promise<RecommendationList> {
  const degraded = new DegradedReasons();
  const pool = candidatePoolSize(query.count);
  const included = [...query.filter.includeCategories];
  const perCategory = included.slice(0, MAX_CATEGORY_TRENDING_CALLS);
  // Beyond the fan-out cap the remaining categories are found in the overall ranking.
  const categories = included.length === 0 || included.length > MAX_CATEGORY_TRENDING_CALLS ? ['', ...perCategory] : perCategory;
  const batches = degraded.batches(await trendingBatches(ports.trending, categories, pool, budget));
  const candidates = withoutItemIds(mergeCandidates(batches), query.filter.excludeItemIds);
  const eligible = await lookUpEligible(ports.features, candidates, [], query.filter, budget, degraded);
  const eligibleCount = eligible?.candidates.length ?? 0;
  const ranked = eligible ? firstRanked(rankedByScore(eligible.candidates, eligible.candidates.map((candidate) => candidate.sourceScores.trending ?? 0)), query.count) : [];
  return {
    items: ranked.map((candidate) => toRecommendedItem(candidate)),
    modelVersion: '',
    degradedReasons: degraded.list(),
    stats: { candidatesBySource: countBySource(batches), merged: candidates.length, eligible: eligibleCount, ranking: eligibleCount ? 'popularity' : 'none' },
  };
}

/** The user's best categories by affinity that the filter does not exclude. */
export function favouriteCategories(user: UserFacts | undefined, filter: ItemFilter, count: number): string[] {
  if (!user) return [];
  return [...user.categoryAffinity]
    .filter(([category, affinity]) => affinity > 0 && !filter.excludeCategories.has(category))
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, count)
    .map(([category]) => category);
}

/** Co-visits asked per recent item: the pool spread over the recent items, 5..100 each. */
export function coVisitsPerItem(pool: number, recentCount: number): number {
  return Math.min(100, Math.max(5, Math.ceil(pool / Math.max(1, recentCount))));
}

function trendingBatches(trending: Trending, categories: readonly string[], count: number, budget: DownstreamBudget): Promise<Outcome<SourceBatch>[]> {
  return Promise.all(
    categories.map(async (category) => {
      const outcome = await callDownstream('trending', budget, (limits) => trending.trending(count, category, limits));
      return outcome.ok ? { ok: true as const, value: trendingBatch(outcome.value, category) } : outcome;
    }),
  );
}

/**
 * Looks up the catalog facts of the candidates and of `alsoItemIds` (e.g. recent items, for their
 * categories) in one call, and keeps the eligible candidates; `items` holds the facts found of
 * `alsoItemIds`. The candidates are already without excluded ids (withoutItemIds). When the catalog
 * cannot be read the answer is undefined: nothing can be shown without knowing it is not hidden.
 */
async function lookUpEligible(
  features: Features,
  candidates: readonly Candidate[],
  alsoItemIds: readonly string[],
  filter: ItemFilter,
  budget: DownstreamBudget,
  degraded: DegradedReasons,
): Promise<{ candidates: EligibleCandidate[]; items: ReadonlyMap<string, ItemFacts> } | undefined> {
  if (candidates.length === 0) return { candidates: [], items: new Map() };
  const itemIds = itemIdsToLookUp(candidates, alsoItemIds);
  const facts = degraded.valueOr(await callDownstream('catalog', budget, (limits) => features.items(itemIds, limits)), undefined);
  if (!facts) return undefined;
  const items = new Map<string, ItemFacts>();
  alsoItemIds.forEach((itemId, index) => {
    const item = facts[candidates.length + index];
    if (item?.itemId === itemId) items.set(itemId, item);
  });
  return { candidates: eligibleCandidates(candidates, facts, filter), items };
}

/**
 * The candidates' item ids, then `alsoItemIds` (at `candidates.length + i`), as is: an id in both is
 * looked up twice, which costs less than finding it among ~200 candidates (a recent item never is one
 * in Recommend: the user's recent items are excluded).
 */
export function itemIdsToLookUp(candidates: readonly Candidate[], alsoItemIds: readonly string[]): string[] {
  const itemIds = candidates.map((candidate) => candidate.itemId);
  for (const itemId of alsoItemIds) itemIds.push(itemId);
  return itemIds;
}

function checkScores(scores: Scores, rows: number): Scores {
  if (scores.scores.length !== rows) throw new Error(`returned ${scores.scores.length} scores for ${rows} candidates`);
  return scores;
}

/** An item of the answer; `similarExplainedBy` explains it when the ANN source left it unexplained (VectorNeighbours.explainedBy). */
function toRecommendedItem(candidate: RankedCandidate, similarExplainedBy?: (itemId: string) => string): RecommendedItem {
  const reasons = similarExplainedBy ? withSimilarExplained(candidate.reasons, () => similarExplainedBy(candidate.itemId)) : candidate.reasons;
  return { itemId: candidate.itemId, score: candidate.score, reasons };
}

/** Collects the distinct reasons of failed downstream calls, in the order they were noticed. */
class DegradedReasons {
  private readonly reasons: string[] = [];

  valueOr<T, F>(outcome: Outcome<T>, fallback: F): T | F {
    if (outcome.ok) return outcome.value;
    if (!this.reasons.includes(outcome.reason)) this.reasons.push(outcome.reason);
    return fallback;
  }

  batches(outcomes: readonly Outcome<SourceBatch>[]): SourceBatch[] {
    return outcomes.flatMap((outcome) => {
      const batch = this.valueOr(outcome, undefined);
      return batch ? [batch] : [];
    });
  }

  list(): string[] {
    return [...this.reasons];
  }
}
