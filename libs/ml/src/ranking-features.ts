// The ranking feature schema shared by the trainer (which builds training rows), the recommender
// (which builds request rows) and the scoring service (which refuses a model of another schema).
// Order matters: it is the column order of the ranker's input. Changing a name, its meaning or the
// order must change RANKING_FEATURE_SCHEMA, so that an old model is never fed new rows.

/**
 * What each feature means. rankingFeatureValues (below) computes them, for the recommender at request
 * time and for the trainer from its projector-faithful history snapshot (with the snapshot's last
 * event time as "now").
 */
export const RANKING_FEATURE_DESCRIPTIONS = {
  ann_score:
    "The ANN source's score for the item: the user's unit query vector (foldInUser of their recent items, " +
    'newest weighted most) · the item\'s raw vector (unit vector × itemNorm), i.e. the ALS affinity of the ' +
    "vector service's inner-product search; 0 when the ANN source did not propose the item (not among its " +
    'top candidates, or the user has no recent item with a vector).',
  covisit_score:
    'ln(1 + S / k): S is the co-visitation score summed over the user\'s recent items (each list decayed ' +
    'with ORRERY_COVISIT_HALF_LIFE_HOURS, merged by the query service), k the recency rank (1 = newest) of ' +
    'the recent item contributing most; 0 when no recent item co-occurs with it.',
  trending_score:
    "ln(1 + the item's interaction weight decayed to now with ORRERY_TRENDING_HALF_LIFE_HOURS, default " +
    '72 h) — the score of the trending ranking (ItemView.popularity).',
  log_popularity: "ln(1 + the item's lifetime interaction count, every event type counted once) — ItemView.interactions.",
  category_affinity:
    "Share (0–1) of the user's decayed category affinity (ORRERY_AFFINITY_HALF_LIFE_HOURS) on the item's categories.",
  is_recent_category: "1 when the item shares a category with one of the user's last 5 distinct items, else 0.",
  log_item_age_days: 'ln(1 + days since the item was published); 0 when unknown or in the future.',
  source_count: 'How many candidate sources (ANN, co-visitation, trending) proposed the item: 1 to 3.',
} as const;

/** A ranking feature name. */
export type RankingFeatureName = keyof typeof RANKING_FEATURE_DESCRIPTIONS;

/** Feature names in column order. */
export const RANKING_FEATURES: readonly RankingFeatureName[] = [
  'ann_score',
  'covisit_score',
  'trending_score',
  'log_popularity',
  'category_affinity',
  'is_recent_category',
  'log_item_age_days',
  'source_count',
];

/** 32-bit FNV-1a of a string, as 8 hex digits. */
function fnv1aHex(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** Returns the schema id of an ordered list of feature names: `ranking-v1-<count>-<hash of the names>`. */
export function featureSchemaOf(featureNames: readonly string[]): string {
  return `ranking-v1-${featureNames.length}-${fnv1aHex(featureNames.join('\n'))}`;
}

/** Version of RANKING_FEATURES; a model trained on other columns carries another value. */
export const RANKING_FEATURE_SCHEMA = featureSchemaOf(RANKING_FEATURES);

/** Each feature's column in RANKING_FEATURES order. */
const COLUMN = Object.fromEntries(RANKING_FEATURES.map((name, column) => [name, column])) as Readonly<Record<RankingFeatureName, number>>;

/** The offset of row `row` in a rows × RANKING_FEATURES.length matrix; throws rather than let a write run past the end. */
function rowOffset(rows: Float32Array, row: number): number {
  const offset = row * RANKING_FEATURES.length;
  if (offset + RANKING_FEATURES.length > rows.length) {
    throw new RangeError(`row ${row} is outside a feature matrix of ${rows.length / RANKING_FEATURES.length} rows`);
  }
  return offset;
}

/** Writes one candidate's features into row `row` of `rows` (rows × RANKING_FEATURES.length) in schema order; non-finite values become 0. */
export function writeRankingFeatures(
  rows: Float32Array,
  row: number,
  values: Readonly<Record<RankingFeatureName, number>>,
): void {
  const offset = rowOffset(rows, row);
  for (let column = 0; column < RANKING_FEATURES.length; column++) {
    const value = values[RANKING_FEATURES[column] as RankingFeatureName];
    rows[offset + column] = Number.isFinite(value) ? value : 0;
  }
}

/** The sum of a user's positive category affinities: categoryAffinityShare's denominator, computed once per user. */
export function affinityTotal(affinity: ReadonlyMap<string, number> | undefined): number {
  let total = 0;
  if (affinity) for (const value of affinity.values()) total += Math.max(0, value);
  return total;
}

/** A user's feature inputs with categoryAffinityTotal summed from categoryAffinity: how training and serving both make them. */
export function withAffinityTotal(user: Omit<UserFeatureInputs, 'categoryAffinityTotal'>): UserFeatureInputs {
  return { ...user, categoryAffinityTotal: affinityTotal(user.categoryAffinity) };
}

/**
 * Share (0..1) of the user's category affinity that falls on the item's categories: the
 * `category_affinity` feature, computed by this one function in training and in serving. `total` is
 * affinityTotal(affinity) (passed in: it is the same for every candidate of a user).
 */
export function categoryAffinityShare(categories: readonly string[], affinity: ReadonlyMap<string, number> | undefined, total: number): number {
  if (!affinity || categories.length === 0 || total <= 0) return 0;
  let onItem = 0;
  // Each distinct category once; an item has a few, and this runs for every candidate of every request (no Set per call).
  for (let index = 0; index < categories.length; index++) {
    const category = categories[index]!;
    if (categories.indexOf(category) === index) onItem += Math.max(0, affinity.get(category) ?? 0);
  }
  return Math.min(1, onItem / total);
}

/** is_recent_category looks at the user's last this many distinct items. */
export const RECENT_CATEGORY_WINDOW = 5;

const DAY_MS = 86_400_000;

/** A candidate's co-visitation: the recent item it was co-visited with, and the score. */
export interface CoVisitSource {
  readonly sourceItemId: string;
  readonly score: number;
}

/** What one candidate's ranking features are computed from — the same in training and in serving. */
export interface CandidateFeatureInputs {
  /** The ANN source's score; undefined when the ANN source did not propose the item. */
  readonly annScore: number | undefined;
  /**
   * The recent item the candidate was co-visited with and the score: the main source of the merged
   * co-visit lists, holding the sum (one per candidate, in training and in serving); undefined when
   * the co-visit source did not propose it.
   */
  readonly coVisit: CoVisitSource | undefined;
  /** The item's decayed popularity (the trending ranking's score). */
  readonly trendingScore: number;
  /** Lifetime interaction count. */
  readonly interactions: number;
  /** The first is the main category. */
  readonly categories: readonly string[];
  readonly publishedAtMs: number | undefined;
  /** How many candidate sources proposed the item. */
  readonly sourceCount: number;
}

/** What the features depend on about the user and the moment. */
export interface UserFeatureInputs {
  /** Distinct recent item ids, newest first. */
  readonly recentItemIds: readonly string[];
  /** The categories of the user's last RECENT_CATEGORY_WINDOW items. */
  readonly recentCategories: ReadonlySet<string>;
  /** Category -> decayed affinity; undefined when unknown. */
  readonly categoryAffinity: ReadonlyMap<string, number> | undefined;
  /** affinityTotal(categoryAffinity) (withAffinityTotal fills it in). */
  readonly categoryAffinityTotal: number;
  readonly nowMs: number;
}

/**
 * The ranking features of one candidate, as RANKING_FEATURE_DESCRIPTIONS defines them: the one
 * computation the trainer (training rows) and the recommender (request rows) share, so the model is
 * served exactly the features it was trained on. Each lands in `out[offset + its column]`, as computed
 * (non-finite values included).
 */
function computeRankingFeatures(out: Float32Array | Float64Array, offset: number, candidate: CandidateFeatureInputs, user: UserFeatureInputs): void {
  const { publishedAtMs } = candidate;
  out[offset + COLUMN.ann_score] = candidate.annScore ?? 0;
  out[offset + COLUMN.covisit_score] = Math.log1p(recencyWeightedCoVisit(candidate.coVisit, user.recentItemIds));
  out[offset + COLUMN.trending_score] = Math.log1p(Math.max(0, candidate.trendingScore));
  out[offset + COLUMN.log_popularity] = Math.log1p(Math.max(0, candidate.interactions));
  out[offset + COLUMN.category_affinity] = categoryAffinityShare(candidate.categories, user.categoryAffinity, user.categoryAffinityTotal);
  out[offset + COLUMN.is_recent_category] = sharesACategory(candidate.categories, user.recentCategories) ? 1 : 0;
  out[offset + COLUMN.log_item_age_days] = publishedAtMs === undefined || publishedAtMs > user.nowMs ? 0 : Math.log1p((user.nowMs - publishedAtMs) / DAY_MS);
  out[offset + COLUMN.source_count] = candidate.sourceCount;
}

/** The ranking features of one candidate by name (computeRankingFeatures), e.g. to inspect or test them. */
export function rankingFeatureValues(candidate: CandidateFeatureInputs, user: UserFeatureInputs): Record<RankingFeatureName, number> {
  const row = new Float64Array(RANKING_FEATURES.length);
  computeRankingFeatures(row, 0, candidate, user);
  return Object.fromEntries(RANKING_FEATURES.map((name, column) => [name, row[column] as number])) as Record<RankingFeatureName, number>;
}

/**
 * Writes one candidate's features (computeRankingFeatures) straight into row `row` of `rows`, with
 * non-finite values as 0: the same row as writeRankingFeatures(rows, row, rankingFeatureValues(…)),
 * without a record of eight numbers per candidate (the recommender writes ~200 rows per request).
 */
export function writeCandidateFeatures(rows: Float32Array, row: number, candidate: CandidateFeatureInputs, user: UserFeatureInputs): void {
  const offset = rowOffset(rows, row);
  computeRankingFeatures(rows, offset, candidate, user);
  for (let column = offset; column < offset + RANKING_FEATURES.length; column++) {
    if (!Number.isFinite(rows[column])) rows[column] = 0;
  }
}

/** True when the item has one of `categories` (a loop, not `some` with a closure: this runs per candidate). */
function sharesACategory(categories: readonly string[], among: ReadonlySet<string>): boolean {
  for (const category of categories) if (among.has(category)) return true;
  return false;
}

/** The co-visit score weighted 1/k when its source is the k-th most recent item (1-based); a source not among the recent items weighs as the oldest; none: 0. */
export function recencyWeightedCoVisit(coVisit: CoVisitSource | undefined, recentItemIds: readonly string[]): number {
  if (!coVisit) return 0;
  const index = recentItemIds.indexOf(coVisit.sourceItemId);
  const k = index >= 0 ? index + 1 : Math.max(1, recentItemIds.length);
  return Math.max(0, coVisit.score) / k;
}
