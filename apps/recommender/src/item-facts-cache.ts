// A short-lived cache of catalog facts in front of the query service: every Recommend looks up the
// facts of ~100–200 candidates, mostly the same popular items, and that lookup is the largest share
// of the query service's work per request. Facts younger than the TTL are served from memory, so
// a hidden item can appear for at most the TTL after the projection hid it; popularity features
// are at most that stale.
import type { Features, ItemFacts } from './ports';

export interface ItemFactsCacheOptions {
  /** How long facts are reused, in ms; 0 turns the cache off. */
  readonly ttlMs: number;
  /** Entries kept at most (oldest evicted first); default 100 000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/** Features whose `items` serves facts younger than ttlMs from memory and asks `inner` for the rest in one call. */
export function cachingItemFacts(inner: Features, options: ItemFactsCacheOptions): Features {
  if (options.ttlMs <= 0) return inner;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 100_000;
  const cache = new Map<string, { facts: ItemFacts; expiresAt: number }>();
  return {
    items: async (itemIds, limits) => {
      const at = now();
      const found = new Map<string, ItemFacts>();
      const missing: string[] = [];
      for (const itemId of itemIds) {
        const entry = cache.get(itemId);
        if (entry && entry.expiresAt > at) found.set(itemId, entry.facts);
        else if (!found.has(itemId)) missing.push(itemId);
      }
      if (missing.length === 0) return found;
      const fetched = await inner.items(missing, limits);
      const expiresAt = now() + options.ttlMs;
      for (const [itemId, facts] of fetched) {
        found.set(itemId, facts);
        cache.delete(itemId);
        cache.set(itemId, { facts, expiresAt });
      }
      // Map iteration is insertion order: the first keys are the least recently fetched.
      for (const itemId of cache.keys()) {
        if (cache.size <= maxEntries) break;
        cache.delete(itemId);
      }
      return found;
    },
  };
}
