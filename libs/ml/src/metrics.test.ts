import type { Interaction } from './interactions';
import {
  catalogCoverage,
  evaluateRecommender,
  evaluationCasesFrom,
  hitRateAtK,
  ndcgAtK,
  recallAtK,
  type Recommender,
} from './metrics';

const relevant = new Set(['b', 'd']);

describe('top-k metrics', () => {
  it('when a relevant item is in the top k, the hit rate is 1, else 0', () => {
    expect(hitRateAtK(['a', 'b', 'c'], relevant, 2)).toBe(1);
    expect(hitRateAtK(['a', 'c', 'b'], relevant, 2)).toBe(0);
    expect(hitRateAtK([], relevant, 10)).toBe(0);
  });

  it('when one of two relevant items is found, recall is one half', () => {
    expect(recallAtK(['a', 'b', 'c'], relevant, 3)).toBe(0.5);
    expect(recallAtK(['d', 'b'], relevant, 3)).toBe(1);
    expect(recallAtK(['a'], new Set(), 3)).toBe(0);
  });

  it('when hits sit at ranks 2 and 4, NDCG is (1/log2 3 + 1/log2 5) / (1 + 1/log2 3)', () => {
    const expected = (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3));
    expect(ndcgAtK(['a', 'b', 'c', 'd'], relevant, 4)).toBeCloseTo(expected, 12);
    expect(ndcgAtK(['b', 'd', 'a'], relevant, 4)).toBe(1);
    // With k = 1 the ideal list holds one relevant item.
    expect(ndcgAtK(['b'], relevant, 1)).toBe(1);
    expect(ndcgAtK(['a', 'b'], new Set(['b']), 10)).toBeCloseTo(1 / Math.log2(3), 12);
  });

  it('when a list repeats a relevant item, it is counted once', () => {
    expect(ndcgAtK(['b', 'b', 'b'], relevant, 3)).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12);
    expect(recallAtK(['b', 'b'], relevant, 2)).toBe(0.5);
  });

  it('when lists overlap, coverage counts the distinct items of their top k over the catalog', () => {
    expect(catalogCoverage([['a', 'b', 'z'], ['b', 'c']], 10, 2)).toBe(0.3);
    expect(catalogCoverage([], 10)).toBe(0);
  });
});

describe('evaluateRecommender', () => {
  const lists: Record<string, string[]> = { u1: ['x', 'y'], u2: ['q', 'r', 's'], u3: [] };
  const recommend: Recommender = async (userId, k) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return (lists[userId] ?? []).slice(0, k);
  };

  it('when given held-out cases and an async recommender, it returns the mean of each metric', async () => {
    const cases = [
      { userId: 'u1', relevantItemIds: ['x'] },
      { userId: 'u2', relevantItemIds: ['r'] },
      { userId: 'u3', relevantItemIds: ['x'] },
    ];
    const metrics = await evaluateRecommender(cases, recommend, 2, { catalogSize: 10, concurrency: 2 });
    expect(metrics).toEqual({
      k: 2,
      users: 3,
      hitRate: 2 / 3,
      recall: 2 / 3,
      ndcg: expect.closeTo((1 + 1 / Math.log2(3)) / 3, 12),
      coverage: 0.4,
    });
  });

  it('when the recommender fails for a user, the evaluation fails', async () => {
    const failing: Recommender = (userId) => (userId === 'u2' ? Promise.reject(new Error('deadline exceeded')) : []);
    await expect(evaluateRecommender([{ userId: 'u1', relevantItemIds: [] }, { userId: 'u2', relevantItemIds: [] }], failing, 5)).rejects.toThrow(
      'deadline exceeded',
    );
  });

  it('when there are no cases, the means are 0', async () => {
    expect(await evaluateRecommender([], recommend, 10)).toEqual({ k: 10, users: 0, hitRate: 0, ndcg: 0, recall: 0 });
  });

  it('when held-out events are turned into cases, there is one case per user with all their items', () => {
    const event = (userId: string, itemId: string): Interaction => ({ userId, itemId, type: 'VIEW', value: 0, occurredAt: 0 });
    expect(evaluationCasesFrom([event('u1', 'a'), event('u2', 'b'), event('u1', 'c'), event('u1', 'a')])).toEqual([
      { userId: 'u1', relevantItemIds: ['a', 'c'] },
      { userId: 'u2', relevantItemIds: ['b'] },
    ]);
  });
});
