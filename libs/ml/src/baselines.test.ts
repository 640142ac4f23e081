import { coVisitationBaseline, popularityBaseline } from './baselines';
import { topKByScore } from './embedding-recommender';
import type { Interaction, InteractionType } from './interactions';

const MINUTE = 60_000;
const event = (userId: string, itemId: string, minute: number, type: InteractionType = 'VIEW'): Interaction => ({
  userId,
  itemId,
  type,
  value: 0,
  occurredAt: Date.UTC(2025, 0, 1) + minute * MINUTE,
});

describe('popularityBaseline', () => {
  const interactions = [
    event('u1', 'a', 0),
    event('u2', 'a', 1),
    event('u3', 'a', 2),
    event('u1', 'b', 3),
    event('u2', 'b', 4),
    event('u3', 'c', 5, 'PURCHASE'),
    event('u1', 'd', 6),
  ];

  it('when asked for k items, it returns the most weighted items the user has not seen', () => {
    const recommend = popularityBaseline(interactions);
    // Weights: c 8 (one purchase), a 3, b 2, d 1.
    expect(recommend('new-user', 3)).toEqual(['c', 'a', 'b']);
    expect(recommend('u1', 3)).toEqual(['c']);
    expect(recommend('u3', 10)).toEqual(['b', 'd']);
  });

  it('when items are excluded (hidden in the catalog), it recommends the most weighted of the others', () => {
    const recommend = popularityBaseline(interactions, { excluded: (itemId) => itemId === 'c' });
    expect(recommend('new-user', 3)).toEqual(['a', 'b', 'd']);
    expect(recommend('u3', 10)).toEqual(['b', 'd']);
  });

  it('when a half-life is set, recent interactions outweigh older ones', () => {
    const recommend = popularityBaseline([event('u1', 'old', 0), event('u2', 'old', 0), event('u3', 'new', 60 * 24 * 10)], {
      halfLifeDays: 1,
    });
    expect(recommend('u4', 2)).toEqual(['new', 'old']);
  });
});

describe('coVisitationBaseline', () => {
  // Three users go a → b in one session; two go a → c much later (another session).
  const interactions = [
    ...['u1', 'u2', 'u3'].flatMap((userId) => [event(userId, 'a', 0), event(userId, 'b', 2)]),
    ...['u4', 'u5'].flatMap((userId) => [event(userId, 'a', 0), event(userId, 'c', 600)]),
    event('u6', 'pop', 0),
    event('u7', 'pop', 0),
    event('u8', 'pop', 0),
    event('u9', 'pop', 0),
    event('me', 'a', 1000),
  ];

  it('when the user just visited an item, it recommends what others visited next in the same session', () => {
    const recommend = coVisitationBaseline(interactions);
    expect(recommend('me', 1)).toEqual(['b']);
  });

  it('when co-visits run out, it tops the list up with popular unseen items', () => {
    const recommend = coVisitationBaseline(interactions);
    expect(recommend('me', 3)).toEqual(['b', 'pop', 'c']);
  });

  it('when a view, a click and a purchase hit the same item, they are one visit, not co-visits of itself', () => {
    const recommend = coVisitationBaseline([event('u1', 'x', 0), event('u1', 'x', 1, 'CLICK'), event('u1', 'y', 2), event('me', 'x', 10)]);
    expect(recommend('me', 5)).toEqual(['y']);
  });
});

describe('topKByScore', () => {
  it('when asked for the top k, it returns indexes best first, ties by lower index, skipping excluded ones', () => {
    const scores = [0.1, 0.9, 0.5, 0.9, 0.7];
    expect(topKByScore(scores, 3)).toEqual([1, 3, 4]);
    expect(topKByScore(scores, 3, (i) => i === 1)).toEqual([3, 4, 2]);
    expect(topKByScore(scores, 10)).toEqual([1, 3, 4, 2, 0]);
    expect(topKByScore(scores, 0)).toEqual([]);
  });
});
