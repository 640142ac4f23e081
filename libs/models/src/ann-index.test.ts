import { buildServingIndex, EXCLUSION_ROOM_SHARE, EXPLAINING_RECENT_ITEMS, keysAsRows } from './ann-index';
import type { ItemEmbeddings } from './serving';

/** 40 items on a circle in the first two of 4 dimensions: item i at angle i × 9°, unit length, norm 1. */
function circle(): ItemEmbeddings {
  const factors = 4;
  const itemIds = Array.from({ length: 40 }, (_, i) => `item-${i}`);
  const itemVectors = new Float32Array(itemIds.length * factors);
  itemIds.forEach((_, i) => {
    itemVectors[i * factors] = Math.cos((i * Math.PI) / 20);
    itemVectors[i * factors + 1] = Math.sin((i * Math.PI) / 20);
  });
  return { factors, itemIds, itemVectors, itemNorms: new Float32Array(itemIds.length).fill(1) };
}

const cosine = (embeddings: ItemEmbeddings, a: string, b: string): number => {
  const row = (id: string): number => embeddings.itemIds.indexOf(id) * embeddings.factors;
  let sum = 0;
  for (let k = 0; k < embeddings.factors; k++) sum += embeddings.itemVectors[row(a) + k]! * embeddings.itemVectors[row(b) + k]!;
  return sum;
};

describe('serving index: search for a user', () => {
  it("explains each hit by the nearest of the user's newest items, never by an older one", async () => {
    const embeddings = circle();
    const index = await buildServingIndex('v1', embeddings, new Set());
    // The two oldest sit right next to hits the newest five pull in (item-9 is 9° from item-10, 45° from item-4).
    const recent = ['item-0', 'item-1', 'item-2', 'item-3', 'item-4', 'item-10', 'item-11'];
    const newest = ['item-0', 'item-1', 'item-2', 'item-3', 'item-4'];
    expect(EXPLAINING_RECENT_ITEMS).toBe(newest.length);
    const { hits, nearestRecentItem } = index.searchForUser(recent, 10, []);
    expect(hits).toHaveLength(10);
    expect(hits.map((hit) => hit.itemId)).toContain('item-9');
    for (const hit of hits) {
      expect(recent).not.toContain(hit.itemId);
      const nearestItemId = nearestRecentItem(hit.itemId);
      expect(newest).toContain(nearestItemId);
      const best = Math.max(...newest.map((itemId) => cosine(embeddings, hit.itemId, itemId)));
      expect(cosine(embeddings, hit.itemId, nearestItemId)).toBeCloseTo(best, 6);
    }
    expect(nearestRecentItem('no-such-item')).toBe('');
  });
  it('still finds the best items that are not excluded when exclusions fill more than the first search', async () => {
    const index = await buildServingIndex('v1', circle(), new Set());
    // Seen: the 16 items nearest item-0 (1..8 and 32..39, up to 72° away), more than the first search's room.
    const seen = Array.from({ length: 40 }, (_, i) => `item-${i}`).filter((_, i) => (i >= 1 && i <= 8) || i >= 32);
    const count = 4;
    expect(seen.length).toBeGreaterThan(count + Math.ceil(EXCLUSION_ROOM_SHARE * count));
    const { hits } = index.searchForUser(['item-0'], count, seen);
    // The next nearest: item-9 and item-31 (81°), then item-10 and item-30 (90°).
    expect(hits.map((hit) => hit.itemId).sort()).toEqual(['item-10', 'item-30', 'item-31', 'item-9']);
  });
});

describe('search answer keys', () => {
  it('are read as the row numbers they are, up to 2^32 - 1', () => {
    expect(Array.from(keysAsRows(BigUint64Array.from([0n, 5n, 4_294_967_295n, 7n])))).toEqual([0, 5, 4_294_967_295, 7]);
    expect(Array.from(keysAsRows(new BigUint64Array(0)))).toEqual([]);
  });

  it('of a view into a larger buffer are read from the view only', () => {
    const keys = BigUint64Array.from([9n, 1n, 2n, 9n]).subarray(1, 3);
    expect(Array.from(keysAsRows(keys))).toEqual([1, 2]);
  });
});
