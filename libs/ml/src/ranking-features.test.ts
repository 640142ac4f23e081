import { RANKING_FEATURES, RANKING_FEATURE_DESCRIPTIONS, writeRankingFeatures } from './ranking-features';

describe('writeRankingFeatures', () => {
  const values = {
    ann_score: 0.5,
    covisit_score: 1.5,
    trending_score: 2,
    log_popularity: 3,
    category_affinity: 0.25,
    is_recent_category: 1,
    log_item_age_days: Number.NaN,
    source_count: 2,
  };

  it('when a row is written, its columns follow RANKING_FEATURES and a non-finite value becomes 0', () => {
    const rows = new Float32Array(2 * RANKING_FEATURES.length);
    writeRankingFeatures(rows, 1, values);
    expect(Array.from(rows.subarray(0, RANKING_FEATURES.length))).toEqual(new Array(RANKING_FEATURES.length).fill(0));
    expect(Array.from(rows.subarray(RANKING_FEATURES.length))).toEqual([0.5, 1.5, 2, 3, 0.25, 1, 0, 2]);
  });

  it('when the row is outside the matrix, it throws instead of writing past the end', () => {
    expect(() => writeRankingFeatures(new Float32Array(RANKING_FEATURES.length), 1, values)).toThrow(RangeError);
  });

  it('every feature in the schema is documented', () => {
    expect([...RANKING_FEATURES].sort()).toEqual(Object.keys(RANKING_FEATURE_DESCRIPTIONS).sort());
  });
});
