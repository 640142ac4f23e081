import { cachingItemFacts } from './item-facts-cache';
import type { Features, ItemFacts } from './ports';

const facts = (itemId: string, hidden = false): ItemFacts => ({ itemId, exists: true, hidden, categories: ['books'], publishedAtMs: undefined, popularity: 1, interactions: 1 });
const limits = { timeoutMs: 100 };

describe('cachingItemFacts', () => {
  function source(): { features: Features; calls: string[][]; hidden: Set<string> } {
    const calls: string[][] = [];
    const hidden = new Set<string>();
    return {
      calls,
      hidden,
      features: {
        items: async (itemIds) => {
          calls.push([...itemIds]);
          return new Map(itemIds.map((itemId) => [itemId, facts(itemId, hidden.has(itemId))]));
        },
      },
    };
  }

  it('when facts are younger than the TTL, only the missing items are asked for, in one call', async () => {
    const { features, calls } = source();
    let clock = 0;
    const cached = cachingItemFacts(features, { ttlMs: 1_000, now: () => clock });
    await cached.items(['a', 'b'], limits);
    clock = 500;
    const answer = await cached.items(['a', 'b', 'c'], limits);
    expect([...answer.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(calls).toEqual([['a', 'b'], ['c']]);
  });

  it('when the TTL has passed, facts are read again, so hiding an item shows after at most the TTL', async () => {
    const { features, calls, hidden } = source();
    let clock = 0;
    const cached = cachingItemFacts(features, { ttlMs: 1_000, now: () => clock });
    expect((await cached.items(['a'], limits)).get('a')?.hidden).toBe(false);
    hidden.add('a');
    clock = 1_000;
    expect((await cached.items(['a'], limits)).get('a')?.hidden).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('when the TTL is 0, every lookup goes to the source', async () => {
    const { features, calls } = source();
    const cached = cachingItemFacts(features, { ttlMs: 0 });
    await cached.items(['a'], limits);
    await cached.items(['a'], limits);
    expect(calls).toHaveLength(2);
  });

  it('when more items than the limit were fetched, the oldest are evicted', async () => {
    const { features, calls } = source();
    const cached = cachingItemFacts(features, { ttlMs: 60_000, maxEntries: 2, now: () => 0 });
    await cached.items(['a', 'b', 'c'], limits);
    await cached.items(['b', 'c', 'a'], limits);
    expect(calls).toEqual([['a', 'b', 'c'], ['a']]);
  });
});
