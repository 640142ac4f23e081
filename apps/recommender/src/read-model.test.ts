import type { CoVisit, ItemProjection, ProjectionReader } from '@orrery/projections';
import { coVisitReadDepth, followCatalogChanges, MIN_COVISIT_READ_DEPTH, readModel, sameItemFacts, sameScoredList, UNCHANGED_SCORE_TOLERANCE } from './read-model';

const limits = { timeoutMs: 100 };

/** A reader whose co-visit lists hold 200 items per source, scored 200 … 1; counts how deep each read was. */
function coVisitReader(reads: number[]): ProjectionReader {
  const unused = (): never => {
    throw new Error('not read by this test');
  };
  return {
    coVisits: async (itemIds, countPerItem) => {
      reads.push(countPerItem);
      return new Map(itemIds.map((source): [string, CoVisit[]] => [source, Array.from({ length: Math.min(200, countPerItem) }, (_, rank) => ({ itemId: `${source}-near-${rank}`, score: 200 - rank }))]));
    },
    user: unused,
    trending: unused,
    items: unused,
    uniqueUsers: unused,
    seen: unused,
    usersWithHistory: unused,
    catalogChanges: unused,
  };
}

describe('read model: co-visitation', () => {
  it('reads co-visit lists at a few fixed depths', () => {
    expect([1, 5, 50, 51, 100, 101, 400].map(coVisitReadDepth)).toEqual([50, 50, 50, 100, 100, 200, 400]);
    expect(coVisitReadDepth(1)).toBe(MIN_COVISIT_READ_DEPTH);
  });

  it('when requests ask for different counts per item, one cached read serves them, each answer cut to its count', async () => {
    const reads: number[] = [];
    const model = readModel(coVisitReader(reads), () => undefined, { ttlMs: 60_000 }, () => 0);
    const few = await model.coVisited(['a'], 5, limits);
    const more = await model.coVisited(['a'], 20, limits);
    expect(reads).toEqual([MIN_COVISIT_READ_DEPTH]);
    expect(few.map((item) => item.itemId)).toEqual(Array.from({ length: 5 }, (_, rank) => `a-near-${rank}`));
    expect(more).toHaveLength(20);
    expect(more.every((item) => item.becauseOfItemId === 'a')).toBe(true);
  });

  it('when a request asks for more than the cached depth, the list is read deeper', async () => {
    const reads: number[] = [];
    const model = readModel(coVisitReader(reads), () => undefined, { ttlMs: 60_000 }, () => 0);
    await model.coVisited(['a'], 10, limits);
    expect(await model.coVisited(['a'], 80, limits)).toHaveLength(80);
    expect(reads).toEqual([50, 100]);
  });
});

describe('read model: refreshed values that say the same', () => {
  const facts = { itemId: 'a', exists: true, hidden: false, categories: ['books', 'maps'], publishedAtMs: 5, popularity: 100, interactions: 3 };

  it('counts a list with the same items and scores within the tolerance as unchanged, and any other difference as a change', () => {
    const list = [
      { itemId: 'a', score: 10 },
      { itemId: 'b', score: 5 },
    ];
    const decayed = list.map((entry) => ({ ...entry, score: entry.score * (1 - UNCHANGED_SCORE_TOLERANCE / 2) }));
    expect(sameScoredList(list, decayed)).toBe(true);
    expect(sameScoredList(list, [list[0]!, { itemId: 'b', score: 5 * (1 + 2 * UNCHANGED_SCORE_TOLERANCE) }])).toBe(false);
    expect(sameScoredList(list, [list[1]!, list[0]!])).toBe(false);
    expect(sameScoredList(list, list.slice(0, 1))).toBe(false);
    expect(sameScoredList([{ itemId: 'a', score: 0 }], [{ itemId: 'a', score: 0 }])).toBe(true);
  });

  it('counts item facts as unchanged only when catalog facts and counts are equal and popularity is within the tolerance', () => {
    expect(sameItemFacts(facts, { ...facts, popularity: 100 * (1 + UNCHANGED_SCORE_TOLERANCE / 2), categories: ['books', 'maps'] })).toBe(true);
    expect(sameItemFacts(facts, { ...facts, hidden: true })).toBe(false);
    expect(sameItemFacts(facts, { ...facts, exists: false })).toBe(false);
    expect(sameItemFacts(facts, { ...facts, interactions: 4 })).toBe(false);
    expect(sameItemFacts(facts, { ...facts, publishedAtMs: undefined })).toBe(false);
    expect(sameItemFacts(facts, { ...facts, categories: ['maps', 'books'] })).toBe(false);
    expect(sameItemFacts(facts, { ...facts, categories: ['books'] })).toBe(false);
    expect(sameItemFacts(facts, { ...facts, popularity: 101 })).toBe(false);
  });
});

describe('read model: catalog changes', () => {
  /** A reader of one item whose hidden flag the test sets, with a catalog change token it moves. */
  function catalogReader(): { reader: ProjectionReader; hidden: { value: boolean }; token: { value: string; fails: boolean }; itemReads: string[][] } {
    const hidden = { value: false };
    const token = { value: 'changes=0', fails: false };
    const itemReads: string[][] = [];
    const unused = (): never => {
      throw new Error('not read by this test');
    };
    const item = (itemId: string): ItemProjection => ({
      itemId,
      catalog: { categories: ['books'], tags: [], hidden: hidden.value, publishedAtMs: undefined },
      popularity: 1,
      interactions: 1n,
      deleted: false,
    });
    const reader: ProjectionReader = {
      items: async (itemIds) => (itemReads.push([...itemIds]), itemIds.map(item)),
      catalogChanges: async () => {
        if (token.fails) throw new Error('redis down');
        return token.value;
      },
      coVisits: unused,
      user: unused,
      trending: unused,
      uniqueUsers: unused,
      seen: unused,
      usersWithHistory: unused,
    };
    return { reader, hidden, token, itemReads };
  }
  const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('when the catalog change token moves, cached catalog facts are read again at once, whatever their age; until then they are reused', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    const { reader, hidden, token, itemReads } = catalogReader();
    const errors: unknown[] = [];
    const catalog = followCatalogChanges(reader, 100, (error) => errors.push(error));
    try {
      await settled();
      const model = readModel(reader, () => undefined, { ttlMs: 60_000 }, catalog.current);
      expect((await model.items(['a'], limits))[0]?.hidden).toBe(false);
      hidden.value = true;
      jest.advanceTimersByTime(100);
      await settled();
      expect((await model.items(['a'], limits))[0]?.hidden).toBe(false); // the token did not move: cached
      token.value = 'changes=1';
      jest.advanceTimersByTime(100);
      await settled();
      expect((await model.items(['a'], limits))[0]?.hidden).toBe(true);
      expect(itemReads).toEqual([['a'], ['a']]);
      expect(errors).toEqual([]);
    } finally {
      catalog.stop();
      jest.useRealTimers();
    }
  });

  it('when a poll fails, the generation stays and the failure is reported once until a poll succeeds again', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    const { reader, token } = catalogReader();
    const errors: unknown[] = [];
    const catalog = followCatalogChanges(reader, 100, (error) => errors.push(error));
    try {
      await settled();
      expect(catalog.current()).toBe(1);
      token.fails = true;
      for (let poll = 0; poll < 3; poll++) {
        jest.advanceTimersByTime(100);
        await settled();
      }
      expect(catalog.current()).toBe(1);
      expect(errors).toHaveLength(1);
      token.fails = false;
      token.value = 'changes=7';
      jest.advanceTimersByTime(100);
      await settled();
      expect(catalog.current()).toBe(2);
      token.fails = true;
      jest.advanceTimersByTime(100);
      await settled();
      expect(errors).toHaveLength(2);
    } finally {
      catalog.stop();
      jest.useRealTimers();
    }
  });
});
