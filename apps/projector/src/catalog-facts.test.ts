import { CatalogFactsCache } from './catalog-facts';

const boots = { categories: ['boots'], deleted: false };

describe('CatalogFactsCache', () => {
  it('holds facts (and unknown items) read at one change count, and drops them all when the count moves', () => {
    const cache = new CatalogFactsCache(10);
    expect(cache.readAt('3')).toBe(false);
    cache.reset('3');
    cache.keep('shoe', boots);
    cache.keep('ghost', null);
    expect(cache.readAt('3')).toBe(true);
    expect(cache.get('shoe')).toEqual(boots);
    expect(cache.get('ghost')).toBeNull();
    expect(cache.get('sock')).toBeUndefined();
    expect(cache.readAt('4')).toBe(false);
    cache.reset('4');
    expect(cache.get('shoe')).toBeUndefined();
    expect(cache.readAt(null)).toBe(false);
  });

  it('drops the least recently used past its capacity, and keeps nothing at capacity 0', () => {
    const cache = new CatalogFactsCache(2);
    cache.reset(null);
    cache.keep('a', boots);
    cache.keep('b', boots);
    cache.get('a'); // used: b is now the least recently used
    cache.keep('c', boots);
    expect(['a', 'b', 'c'].map((item) => cache.get(item) !== undefined)).toEqual([true, false, true]);
    const off = new CatalogFactsCache(0);
    off.reset(null);
    off.keep('a', boots);
    expect(off.get('a')).toBeUndefined();
  });
});
