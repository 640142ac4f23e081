import { affinityTotal, categoryAffinityShare, RANKING_FEATURE_SCHEMA, RANKING_FEATURES, rankingFeatureValues, recencyWeightedCoVisit, writeRankingFeatures, type RankingFeatureName } from '@orrery/ml';
import { item, user } from '../test/fakes';
import { candidateFeatureInputs, featureMatrix, userFeatureInputs, type FeatureContext } from './features';
import type { EligibleCandidate } from './filtering';

/** categoryAffinityShare with the user's total computed from the same map, as the feature builders do. */
const affinityShare = (categories: readonly string[], affinity: ReadonlyMap<string, number> | undefined): number => categoryAffinityShare(categories, affinity, affinityTotal(affinity));

/** The features of one served candidate, as featureMatrix computes its row. */
const rankingFeatures = (served: EligibleCandidate, at: FeatureContext): Record<RankingFeatureName, number> =>
  rankingFeatureValues(candidateFeatureInputs(served), userFeatureInputs(at));

const DAY = 86_400_000;
const now = Date.UTC(2025, 0, 11);

const candidate: EligibleCandidate = {
  itemId: 'c',
  sourceScores: { similar: 0.8, 'co-visited': 4, trending: Math.E - 1 },
  reasons: [],
  coVisit: { sourceItemId: 'r2', score: 4 },
  item: item('c', ['books', 'music'], { publishedAtMs: now - 10 * DAY, popularity: 3, interactions: Math.E ** 2 - 1 }),
};
const context = {
  user: user('u', ['r1', 'r2', 'r3'], { categoryAffinity: new Map([['books', 3], ['music', 1], ['games', 4]]) }),
  recentItems: new Map([['r3', item('r3', ['music'])]]),
  nowMs: now,
};

describe('ranking features', () => {
  it('computes each feature as the schema describes it', () => {
    expect(rankingFeatures(candidate, context)).toEqual({
      ann_score: 0.8,
      covisit_score: Math.log1p(4 / 2), // co-visited with r2, the second most recent item
      trending_score: 1,
      log_popularity: expect.closeTo(2, 6),
      category_affinity: 0.5,
      is_recent_category: 1,
      log_item_age_days: Math.log1p(10),
      source_count: 3,
    });
  });

  it('when the user context is missing, user features are 0 and item features remain', () => {
    const features = rankingFeatures(candidate, { user: undefined, recentItems: new Map(), nowMs: now });
    expect(features).toMatchObject({ category_affinity: 0, is_recent_category: 0, log_item_age_days: Math.log1p(10), ann_score: 0.8 });
  });

  it('builds a row-major matrix in RANKING_FEATURES order with the schema id', () => {
    const matrix = featureMatrix([candidate, { ...candidate, itemId: 'd', sourceScores: { trending: 0 } }], context);
    expect(matrix).toMatchObject({ rows: 2, featureCount: RANKING_FEATURES.length, schema: RANKING_FEATURE_SCHEMA });
    const column = (name: (typeof RANKING_FEATURES)[number], row: number) => matrix.values[row * matrix.featureCount + RANKING_FEATURES.indexOf(name)];
    expect(column('ann_score', 0)).toBeCloseTo(0.8);
    expect(column('ann_score', 1)).toBe(0);
    expect(column('source_count', 1)).toBe(1);
  });

  it('each row has its own candidate\'s features, whatever the rows before it had', () => {
    const candidates: EligibleCandidate[] = [
      candidate,
      { ...candidate, itemId: 'd', sourceScores: { trending: 5 }, coVisit: undefined, item: item('d', [], { publishedAtMs: undefined, popularity: 7, interactions: 1 }) },
      { ...candidate, itemId: 'e', sourceScores: { 'co-visited': 2 }, coVisit: { sourceItemId: 'r3', score: 2 }, item: item('e', ['games'], { popularity: 0.5 }) },
    ];
    const expected = new Float32Array(candidates.length * RANKING_FEATURES.length);
    candidates.forEach((served, row) => writeRankingFeatures(expected, row, rankingFeatures(served, context)));
    expect(Array.from(featureMatrix(candidates, context).values)).toEqual(Array.from(expected));
  });

  it('weighs co-visits from older recent items less, and affinity shares stay within 0..1', () => {
    expect(recencyWeightedCoVisit({ sourceItemId: 'r3', score: 3 }, ['r1', 'r2', 'r3'])).toBe(1);
    expect(recencyWeightedCoVisit({ sourceItemId: 'elsewhere', score: 3 }, ['r1', 'r2', 'r3'])).toBe(1);
    expect(recencyWeightedCoVisit({ sourceItemId: 'r1', score: 3 }, ['r1', 'r2', 'r3'])).toBe(3);
    expect(recencyWeightedCoVisit(undefined, ['r1'])).toBe(0);
    expect(affinityShare(['a', 'b'], new Map([['a', 2], ['b', 2]]))).toBe(1);
    expect(affinityShare(['a'], new Map())).toBe(0);
  });

  it('a category the item lists twice counts once in its affinity share', () => {
    expect(affinityShare(['a', 'a', 'b'], new Map([['a', 1], ['b', 1], ['c', 2]]))).toBe(0.5);
  });

  it('an item published in the future or at an unknown time has age 0', () => {
    expect(rankingFeatures({ ...candidate, item: { ...candidate.item, publishedAtMs: now + DAY } }, context).log_item_age_days).toBe(0);
    expect(rankingFeatures({ ...candidate, item: { ...candidate.item, publishedAtMs: undefined } }, context).log_item_age_days).toBe(0);
  });
});
