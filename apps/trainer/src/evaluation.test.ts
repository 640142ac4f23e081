import type { Interaction } from '@orrery/ml';
import { baselineRecommender, splitIdOf } from './evaluation';

function interaction(userId: string, itemId: string, occurredAt: number): Interaction {
  return { userId, itemId, type: 'VIEW', value: 0, occurredAt };
}

describe('the identity of an evaluation split', () => {
  const train = [interaction('u1', 'a', 1), interaction('u2', 'b', 2)];
  const test = [interaction('u1', 'c', 3), interaction('u2', 'd', 4)];

  it('when the same split is evaluated over the same number of users, the id is the same, whatever the order of the held-out events', () => {
    expect(splitIdOf(train, test, 2)).toBe(splitIdOf(train, [...test].reverse(), 2));
  });

  it('when the metrics average over another number of held-out users (another --evaluation-users), the id differs', () => {
    expect(splitIdOf(train, test, 1)).not.toBe(splitIdOf(train, test, 2));
  });

  it('when the training part or the held-out events differ, the id differs', () => {
    expect(splitIdOf([...train, interaction('u3', 'a', 5)], test, 2)).not.toBe(splitIdOf(train, test, 2));
    expect(splitIdOf(train, [test[0]!], 2)).not.toBe(splitIdOf(train, test, 2));
  });
});

describe('the popularity baseline the candidate must beat', () => {
  it('when the most popular item is hidden in the catalog, it recommends the next ones, as served recommendations never show it', async () => {
    const train = [interaction('u1', 'hidden', 1), interaction('u2', 'hidden', 2), interaction('u3', 'hidden', 3), interaction('u1', 'a', 4), interaction('u2', 'a', 5), interaction('u1', 'b', 6)];
    const catalog = new Map([
      ['hidden', { categories: [], publishedAt: undefined, hidden: true }],
      ['a', { categories: [], publishedAt: undefined, hidden: false }],
      ['b', { categories: [], publishedAt: undefined, hidden: false }],
    ]);
    expect(await baselineRecommender(train, catalog)('u9', 2)).toEqual(['a', 'b']);
  });

  it('when the most popular item has left the catalog (deleted), it recommends the next ones; with no catalog at all, every item counts', async () => {
    const train = [interaction('u1', 'deleted', 1), interaction('u2', 'deleted', 2), interaction('u1', 'a', 3)];
    const catalog = new Map([['a', { categories: [], publishedAt: undefined, hidden: false }]]);
    expect(await baselineRecommender(train, catalog)('u9', 2)).toEqual(['a']);
    expect(await baselineRecommender(train, new Map())('u9', 2)).toEqual(['deleted', 'a']);
  });
});
