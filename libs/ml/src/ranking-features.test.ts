import { RANKING_FEATURES, RANKING_FEATURE_DESCRIPTIONS, rankingFeatureValues, writeCandidateFeatures, writeRankingFeatures, type CandidateFeatureInputs, type UserFeatureInputs } from './ranking-features';

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

describe('writeCandidateFeatures', () => {
  const now = Date.UTC(2025, 0, 11);
  const user: UserFeatureInputs = { recentItemIds: ['r1', 'r2'], recentCategories: new Set(['music']), categoryAffinity: new Map([['books', 3], ['music', 1]]), categoryAffinityTotal: 4, nowMs: now };
  const candidates: CandidateFeatureInputs[] = [
    { annScore: 0.8, coVisit: { sourceItemId: 'r2', score: 4 }, trendingScore: 2, interactions: 9, categories: ['books', 'music'], publishedAtMs: now - 86_400_000, sourceCount: 3 },
    { annScore: undefined, coVisit: undefined, trendingScore: -1, interactions: 0, categories: [], publishedAtMs: undefined, sourceCount: 1 },
    { annScore: Number.NaN, coVisit: undefined, trendingScore: 0, interactions: 1, categories: ['games'], publishedAtMs: now + 1, sourceCount: 1 },
  ];

  it('writes the same row as writeRankingFeatures of rankingFeatureValues, a non-finite value as 0', () => {
    const direct = new Float32Array(candidates.length * RANKING_FEATURES.length);
    const byName = new Float32Array(candidates.length * RANKING_FEATURES.length);
    candidates.forEach((candidate, row) => {
      writeCandidateFeatures(direct, row, candidate, user);
      writeRankingFeatures(byName, row, rankingFeatureValues(candidate, user));
    });
    expect(Array.from(direct)).toEqual(Array.from(byName));
    expect(direct[2 * RANKING_FEATURES.length + RANKING_FEATURES.indexOf('ann_score')]).toBe(0);
    expect(direct[RANKING_FEATURES.indexOf('covisit_score')]).toBeCloseTo(Math.log1p(4 / 2));
  });

  it('when the row is outside the matrix, it throws instead of writing past the end', () => {
    expect(() => writeCandidateFeatures(new Float32Array(RANKING_FEATURES.length), 1, candidates[0]!, user)).toThrow(RangeError);
  });
});
