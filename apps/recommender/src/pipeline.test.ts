import { RANKING_FEATURES } from '@orrery/ml';
import { budget, fakePorts, item, never, user, type FakeWorld } from '../test/fakes';
import type { RecommenderPorts } from './pipeline';
import { itemIdsToLookUp, popular, recommend, similarItems } from './pipeline';
import { NO_FILTER, type ItemFilter } from './validation';

// A small world: u1 recently saw r1 and r2 (and long ago old-1); some candidates are hidden,
// unknown or already seen, so filtering has something to do.
const world: FakeWorld = {
  users: { u1: user('u1', ['r1', 'r2'], { seenItemIds: ['r1', 'r2', 'old-1'], categoryAffinity: new Map([['books', 5], ['music', 1]]) }) },
  items: [
    item('r1', ['books']),
    item('r2', ['music']),
    item('old-1', ['books']),
    item('b1', ['books']),
    item('b2', ['books']),
    item('b3', ['books']),
    item('m1', ['music']),
    item('g1', ['games']),
    item('g2', ['games']),
    item('hidden-1', ['books'], { hidden: true }),
    item('fav-b', ['books']),
  ],
  similarForUser: [
    { itemId: 'b1', score: 0.95, becauseOfItemId: 'r1' },
    { itemId: 'b2', score: 0.9, becauseOfItemId: 'r1' },
    { itemId: 'hidden-1', score: 0.89, becauseOfItemId: 'r1' },
    { itemId: 'b3', score: 0.85, becauseOfItemId: 'r1' },
    { itemId: 'old-1', score: 0.8, becauseOfItemId: 'r1' },
    { itemId: 'm1', score: 0.6, becauseOfItemId: 'r2' },
    { itemId: 'ghost', score: 0.5, becauseOfItemId: 'r2' },
  ],
  similarTo: { b1: [{ itemId: 'b1', score: 1, becauseOfItemId: 'b1' }, { itemId: 'b2', score: 0.9, becauseOfItemId: 'b1' }, { itemId: 'hidden-1', score: 0.8, becauseOfItemId: 'b1' }] },
  coVisits: { r2: [{ itemId: 'm1', score: 9 }, { itemId: 'r1', score: 8 }, { itemId: 'g1', score: 3 }], b1: [{ itemId: 'g2', score: 4 }, { itemId: 'b3', score: 2 }] },
  trending: {
    '': [{ itemId: 'g1', score: 50 }, { itemId: 'hidden-1', score: 45 }, { itemId: 'r1', score: 40 }, { itemId: 'g2', score: 30 }, { itemId: 'b1', score: 20 }],
    books: [{ itemId: 'fav-b', score: 15 }, { itemId: 'b2', score: 10 }],
    games: [{ itemId: 'g2', score: 30 }, { itemId: 'g1', score: 50 }],
  },
  modelVersion: 'ranker-7',
  vectorModelVersion: 'als-3',
};

const query = (overrides: { userId?: string; count?: number; filter?: Partial<ItemFilter> } = {}) => ({
  userId: overrides.userId ?? 'u1',
  count: overrides.count ?? 10,
  filter: { ...NO_FILTER, ...overrides.filter },
  context: new Map<string, string>(),
});
const ids = (list: { items: readonly { itemId: string }[] }) => list.items.map((entry) => entry.itemId);
const failing = (message: string) => () => Promise.reject(new Error(message));

describe('Recommend pipeline', () => {
  it('returns scored candidates from every source, without seen, hidden or unknown items', async () => {
    const { ports, calls } = fakePorts(world);
    const result = await recommend(ports, query(), budget());
    expect(result.degradedReasons).toEqual([]);
    expect(result.modelVersion).toBe('ranker-7');
    expect(ids(result)).toEqual(expect.arrayContaining(['b1', 'b2', 'm1', 'g1', 'g2']));
    for (const never of ['r1', 'r2', 'old-1', 'hidden-1', 'ghost']) expect(ids(result)).not.toContain(never);
    expect(calls.scoredRows).toHaveLength(1);
    expect(calls.similarForUser[0]).toMatchObject({ recent: ['r1', 'r2'] });
    expect(calls.similarForUser[0]!.exclude).toEqual(expect.arrayContaining(['r1', 'r2', 'old-1']));
  });

  it('keeps every reason of an item proposed by several sources', async () => {
    const { ports } = fakePorts(world);
    const m1 = (await recommend(ports, query(), budget())).items.find((entry) => entry.itemId === 'm1');
    expect(m1?.reasons).toEqual(['similar-to:r2', 'co-visited:r2']);
  });

  it('gives the model is_recent_category from the catalog facts of the user\'s recent items', async () => {
    const column = RANKING_FEATURES.indexOf('is_recent_category');
    const byRecentCategory: Partial<RecommenderPorts> = {
      scorer: { score: async (matrix) => ({ scores: Array.from({ length: matrix.rows }, (_, row) => matrix.values[row * matrix.featureCount + column]!), modelVersion: 'm' }) },
    };
    const { ports } = fakePorts(world, byRecentCategory);
    const result = await recommend(ports, query(), budget());
    const scoreOf = (itemId: string) => result.items.find((entry) => entry.itemId === itemId)?.score;
    expect([scoreOf('b1'), scoreOf('m1'), scoreOf('g1')]).toEqual([1, 1, 0]); // books like r1, music like r2, games like neither
  });

  it('explains ANN neighbours the vector source left unexplained, asking only for the items it returns', async () => {
    const asked: string[] = [];
    const { ports } = fakePorts(world, {
      candidates: {
        similarForUser: async () => ({
          items: (world.similarForUser ?? []).map((hit) => ({ ...hit, becauseOfItemId: '' })),
          modelVersion: 'als-3',
          explainedBy: (itemId: string) => {
            asked.push(itemId);
            return (world.similarForUser ?? []).find((hit) => hit.itemId === itemId)?.becauseOfItemId ?? '';
          },
        }),
        similarTo: failing('unused'),
      },
    });
    const result = await recommend(ports, query({ count: 3 }), budget());
    expect(ids(result)).toHaveLength(3);
    expect(asked.sort()).toEqual(ids(result).filter((itemId) => ['b1', 'b2', 'b3', 'm1'].includes(itemId)).sort());
    expect(asked.length).toBeGreaterThan(0);
    const eager = await recommend(fakePorts(world).ports, query({ count: 3 }), budget());
    expect(result.items.map((entry) => entry.reasons)).toEqual(eager.items.map((entry) => entry.reasons));
  });

  it('adds trending items of the user\'s favourite categories', async () => {
    const { ports, calls } = fakePorts(world);
    const result = await recommend(ports, query(), budget());
    expect(calls.trendingCategories).toEqual(expect.arrayContaining(['', 'books', 'music']));
    expect(result.items.find((entry) => entry.itemId === 'fav-b')?.reasons).toEqual(['trending-in:books']);
  });

  it('when the count is small, one category takes at most half of the places', async () => {
    const { ports } = fakePorts(world);
    const result = await recommend(ports, query({ count: 4 }), budget());
    expect(result.items).toHaveLength(4);
    const categories = ids(result).map((itemId) => world.items!.find((facts) => facts.itemId === itemId)!.categories[0]);
    expect(categories.filter((category) => category === 'books').length).toBeLessThanOrEqual(2);
    expect(ids(result).slice(0, 2)).toEqual(['b1', 'b2']);
  });

  it('an unknown user gets trending items, and that is not degraded', async () => {
    const { ports } = fakePorts(world);
    const result = await recommend(ports, query({ userId: 'stranger' }), budget());
    expect(result.degradedReasons).toEqual([]);
    expect(ids(result).sort()).toEqual(['b1', 'g1', 'g2', 'r1'].sort());
    expect(result.items.every((entry) => entry.reasons.includes('trending'))).toBe(true);
  });

  it('when scoring fails, the answer is ranked by the source-score blend and says it is degraded', async () => {
    const { ports } = fakePorts(world, { scorer: { score: failing('scoring: no reply from ipc://x within 150 ms') } });
    const result = await recommend(ports, query(), budget());
    expect(result.degradedReasons).toEqual(['scoring unavailable: scoring: no reply from ipc://x within 150 ms']);
    expect(result.modelVersion).toBe('als-3');
    expect(result.items.length).toBeGreaterThan(0);
    expect(ids(result)).not.toContain('hidden-1');
  });

  it('when scoring returns the wrong number of scores, the blend is used and the reason says why', async () => {
    const { ports } = fakePorts(world, { scorer: { score: async () => ({ scores: [1], modelVersion: 'bad' }) } });
    const result = await recommend(ports, query(), budget());
    expect(result.degradedReasons[0]).toMatch(/^scoring unavailable: returned 1 scores for \d+ candidates$/);
    expect(result.modelVersion).toBe('als-3');
  });

  it('when a downstream hangs past its deadline, the request still answers, degraded', async () => {
    const { ports } = fakePorts(world, { candidates: { similarForUser: () => never(), similarTo: () => never() } });
    const result = await recommend(ports, query(), budget(30));
    expect(result.degradedReasons).toEqual(['vector unavailable: no answer within 30 ms']);
    expect(ids(result)).toEqual(expect.arrayContaining(['m1', 'g1']));
    expect(ids(result)).not.toContain('r1');
  });

  it('when the user context cannot be read, trending items are returned, degraded', async () => {
    const { ports } = fakePorts(world, { users: { userContext: failing('14 UNAVAILABLE: query down') } });
    const result = await recommend(ports, query(), budget());
    expect(result.degradedReasons).toEqual(['user context unavailable: 14 UNAVAILABLE: query down']);
    expect(ids(result).sort()).toEqual(['b1', 'g1', 'g2', 'r1'].sort());
  });

  it('when the catalog cannot be read, nothing unverified is returned and the answer is degraded', async () => {
    const { ports } = fakePorts(world, { features: { items: failing('catalog down') } });
    const result = await recommend(ports, query(), budget());
    expect(result.items).toEqual([]);
    expect(result.degradedReasons).toEqual(['catalog unavailable: catalog down']);
  });

  it('when every candidate source fails, the answer is empty and names each failure', async () => {
    const { ports } = fakePorts(world, {
      candidates: { similarForUser: failing('vector down'), similarTo: failing('vector down') },
      coVisitation: { coVisited: failing('query down') },
      trending: { trending: failing('query down') },
    });
    const result = await recommend(ports, query(), budget());
    expect(result.items).toEqual([]);
    expect(result.degradedReasons).toEqual(['vector unavailable: vector down', 'co-visitation unavailable: query down', 'trending unavailable: query down']);
  });

  it('returns at most count items', async () => {
    const { ports } = fakePorts(world);
    expect((await recommend(ports, query({ count: 2 }), budget())).items).toHaveLength(2);
  });
});

describe('SimilarItems pipeline', () => {
  it('returns neighbours and co-visited items of the item, never the item itself or hidden ones', async () => {
    const { ports } = fakePorts(world);
    const result = await similarItems(ports, { itemId: 'b1', count: 10, filter: NO_FILTER }, budget());
    expect(ids(result)).toEqual(['b2', 'g2', 'b3']);
    expect(result.items[0]!.reasons).toEqual(['similar-to:b1']);
    expect(result.items[1]!.reasons).toEqual(['co-visited:b1']);
    expect(result.modelVersion).toBe('als-3');
    expect(result.degradedReasons).toEqual([]);
  });

  it('when the vector service fails, co-visited items are returned, degraded', async () => {
    const { ports } = fakePorts(world, { candidates: { similarForUser: failing('down'), similarTo: failing('down') } });
    const result = await similarItems(ports, { itemId: 'b1', count: 10, filter: NO_FILTER }, budget());
    expect(ids(result)).toEqual(['g2', 'b3']);
    expect(result.degradedReasons).toEqual(['vector unavailable: down']);
  });

  it('an unknown item gets an empty answer, not an error', async () => {
    const { ports } = fakePorts(world);
    expect((await similarItems(ports, { itemId: 'nope', count: 10, filter: NO_FILTER }, budget())).items).toEqual([]);
  });
});

describe('Popular pipeline', () => {
  it('returns the trending ranking without hidden items', async () => {
    const { ports } = fakePorts(world);
    const result = await popular(ports, { count: 3, filter: NO_FILTER }, budget());
    expect(ids(result)).toEqual(['g1', 'r1', 'g2']);
    expect(result.items[0]).toMatchObject({ score: 50, reasons: ['trending'] });
  });

  it('when categories are included, their own rankings are merged', async () => {
    const { ports, calls } = fakePorts(world);
    const result = await popular(ports, { count: 10, filter: { ...NO_FILTER, includeCategories: new Set(['books', 'games']) } }, budget());
    expect(calls.trendingCategories.sort()).toEqual(['books', 'games']);
    expect(ids(result)).toEqual(['g1', 'g2', 'fav-b', 'b2']);
  });

  it('when trending fails, the answer is empty and degraded', async () => {
    const { ports } = fakePorts(world, { trending: { trending: failing('down') } });
    const result = await popular(ports, { count: 3, filter: NO_FILTER }, budget());
    expect(result).toMatchObject({ items: [], degradedReasons: ['trending unavailable: down'] });
  });
});

describe('filters on every path', () => {
  const filter: ItemFilter = { includeCategories: new Set(['books', 'games']), excludeCategories: new Set(['games']), excludeItemIds: new Set(['b2']) };
  const failures: Record<string, Partial<RecommenderPorts>> = {
    'nothing failing': {},
    'scoring failing': { scorer: { score: failing('down') } },
    'vector failing': { candidates: { similarForUser: failing('down'), similarTo: failing('down') } },
    'user context failing': { users: { userContext: failing('down') } },
    'co-visitation failing': { coVisitation: { coVisited: failing('down') } },
  };

  for (const [situation, overrides] of Object.entries(failures)) {
    it(`with ${situation}, no answer breaks the caller's filter or shows hidden (or known seen) items`, async () => {
      const { ports } = fakePorts(world, overrides);
      const answers = [
        await recommend(ports, query({ filter }), budget()),
        await recommend(ports, query({ userId: 'stranger', filter }), budget()),
        await similarItems(ports, { itemId: 'b1', count: 10, filter }, budget()),
        await popular(ports, { count: 10, filter }, budget()),
      ];
      const facts = new Map(world.items!.map((entry) => [entry.itemId, entry]));
      for (const itemId of answers.flatMap(ids)) {
        const categories = facts.get(itemId)?.categories ?? [];
        expect(categories).toContain('books');
        expect(categories).not.toContain('games');
        expect(['b2', 'hidden-1', 'ghost']).not.toContain(itemId);
      }
      // Seen items are known only from the user context; without it they cannot be left out.
      if (!overrides.users) for (const itemId of ids(answers[0]!)) expect(['r1', 'r2', 'old-1']).not.toContain(itemId);
      expect(ids(answers[2]!)).not.toContain('b1');
      expect(answers.flatMap(ids).length).toBeGreaterThan(0);
    });
  }
});

describe('catalog look-up ids', () => {
  it('are the candidates\' ids, then the other items (in place: their facts are read at candidates + i)', () => {
    const candidates = ['a', 'b', 'c'].map((itemId) => ({ itemId, sourceScores: {}, reasons: [], coVisit: undefined }));
    expect(itemIdsToLookUp(candidates, ['b', 'r1'])).toEqual(['a', 'b', 'c', 'b', 'r1']);
    expect(itemIdsToLookUp([], ['r1'])).toEqual(['r1']);
  });
});
