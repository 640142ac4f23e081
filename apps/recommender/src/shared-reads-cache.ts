// Short-lived caches of the reads that are the same for every user: catalog facts, co-visitation
// lists and trending rankings. Every Recommend reads those for ~100–200 mostly popular items, and they
// were most of the Redis work per request; what is specific to the user (recent items, seen set,
// affinities) is never cached, so a click still moves the next request. A cached value is at most the
// TTL old: a newly hidden item can be returned, and popularity and co-visit scores lag, for that long.

export interface TtlCacheOptions {
  /** How long a value is reused, in ms; 0 turns the cache off. */
  readonly ttlMs: number;
  /** Entries kept at most (the least recently fetched are evicted first); default 100 000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/**
 * Wraps a keyed batch lookup: keys fetched less than ttlMs ago are answered from memory and the rest
 * are asked of `fetch` in one call. Keys `fetch` does not answer are not cached (nor returned).
 */
export function cachedBatchLookup<V, A extends unknown[]>(
  fetch: (keys: readonly string[], ...args: A) => Promise<ReadonlyMap<string, V>>,
  options: TtlCacheOptions,
): (keys: readonly string[], ...args: A) => Promise<Map<string, V>> {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 100_000;
  const cache = new Map<string, { value: V; expiresAt: number }>();
  return async (keys, ...args) => {
    if (options.ttlMs <= 0) return new Map(await fetch(keys, ...args));
    const at = now();
    const found = new Map<string, V>();
    const missing = new Set<string>();
    for (const key of keys) {
      const entry = cache.get(key);
      if (entry && entry.expiresAt > at) found.set(key, entry.value);
      else missing.add(key);
    }
    if (missing.size === 0) return found;
    const fetched = await fetch([...missing], ...args);
    const expiresAt = now() + options.ttlMs;
    for (const [key, value] of fetched) {
      found.set(key, value);
      cache.delete(key);
      cache.set(key, { value, expiresAt });
    }
    // Map iteration is insertion order: the first keys are the least recently fetched.
    for (const key of cache.keys()) {
      if (cache.size <= maxEntries) break;
      cache.delete(key);
    }
    return found;
  };
}
