// The ranking feature schema shared by the trainer (which builds training rows), the recommender
// (which builds request rows) and the scoring service (which refuses a model of another schema).
// Order matters: it is the column order of the ranker's input. Changing a name, its meaning or the
// order must change RANKING_FEATURE_SCHEMA, so that an old model is never fed new rows.

/** What each feature means; the recommender and the trainer must compute them the same way. */
export const RANKING_FEATURE_DESCRIPTIONS = {
  ann_score:
    "ALS affinity: the user's unit query vector (foldInUser of recent items) · the item's raw vector " +
    '(unit vector × itemNorm, i.e. an inner-product index); 0 when the user or the item has no vector.',
  covisit_score:
    "ln(1 + Σ co-visitation count from each of the user's recent items to this item, the k-th most " +
    'recent weighted 1/k); 0 when no recent item co-occurs with it.',
  trending_score: "ln(1 + the item's interaction weight decayed with a 1-day half-life).",
  log_popularity: "ln(1 + the item's interaction weight decayed with a 30-day half-life).",
  category_affinity:
    "Share (0–1) of the user's decayed interaction weight that falls on items sharing a category with this item.",
  is_recent_category: "1 when the item shares a category with one of the user's last 5 items, else 0.",
  log_item_age_days: 'ln(1 + days since the item was published); 0 when unknown or in the future.',
  source_count: 'How many candidate sources (ann, covisit, popular) proposed the item: 1 to 3.',
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

/** Writes one candidate's features into row `row` of `rows` (rows × RANKING_FEATURES.length) in schema order; non-finite values become 0. */
export function writeRankingFeatures(
  rows: Float32Array,
  row: number,
  values: Readonly<Record<RankingFeatureName, number>>,
): void {
  const offset = row * RANKING_FEATURES.length;
  if (offset + RANKING_FEATURES.length > rows.length) {
    throw new RangeError(`row ${row} is outside a feature matrix of ${rows.length / RANKING_FEATURES.length} rows`);
  }
  RANKING_FEATURES.forEach((name, column) => {
    const value = values[name];
    rows[offset + column] = Number.isFinite(value) ? value : 0;
  });
}
