// Short-lived caches of the reads that are the same for every user: catalog facts, co-visitation
// lists and trending rankings. Every Recommend reads those for ~200 mostly popular items, and they
// were most of the Redis work per request; what is specific to the user (recent items, seen set,
// affinities) is never cached, so a click still moves the next request. A cached value is at most the
// TTL old: a newly hidden item can be returned, and popularity and co-visit scores lag, for that long.

export interface TtlCacheOptions {
  /** How long a value is reused at most, in ms; 0 turns the cache off. */
  readonly ttlMs: number;
  /** Entries kept at most (the least recently fetched are evicted first); default 100 000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** Uniform in [0, 1); spreads expiries (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
}

/** Each value lives between this share of the TTL and the whole TTL, so values fetched together do not all expire together. */
export const MIN_TTL_SHARE = 0.75;

type Entry<V> = { readonly value: V; readonly expiresAt: number } | { readonly pending: Promise<V | undefined> };

/**
 * Wraps a keyed batch lookup: keys fetched less than their lifetime ago are answered from memory,
 * keys another call is fetching right now wait for that fetch, and the rest are asked of `fetch` in
 * one call. Keys `fetch` does not answer are not cached (nor returned); a failed fetch caches nothing
 * and fails every call waiting on it.
 * Lifetimes are spread over [MIN_TTL_SHARE × ttlMs, ttlMs]: values fetched in one batch (a whole
 * catalog's facts, say) would otherwise expire at once, and one request would pay for reading them all.
 */
export function cachedBatchLookup<V, A extends unknown[]>(
  fetch: (keys: readonly string[], ...args: A) => Promise<ReadonlyMap<string, V>>,
  options: TtlCacheOptions,
): (keys: readonly string[], ...args: A) => Promise<Map<string, V>> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const maxEntries = options.maxEntries ?? 100_000;
  const cache = new Map<string, Entry<V>>();

  const fetchMissing = (missing: string[], args: A): Promise<ReadonlyMap<string, V>> => {
    const fetched = fetch(missing, ...args);
    for (const key of missing) {
      const pending = fetched.then((values) => values.get(key));
      pending.catch(() => undefined); // whoever waits on it sees the failure; nobody waiting is fine
      cache.delete(key);
      cache.set(key, { pending });
    }
    return fetched.then(
      (values) => {
        const at = now();
        for (const key of missing) {
          cache.delete(key);
          const value = values.get(key);
          if (value !== undefined) cache.set(key, { value, expiresAt: at + options.ttlMs * (MIN_TTL_SHARE + (1 - MIN_TTL_SHARE) * random()) });
        }
        // Map iteration is insertion order: the first keys are the least recently fetched.
        for (const key of cache.keys()) {
          if (cache.size <= maxEntries) break;
          cache.delete(key);
        }
        return values;
      },
      (error: unknown) => {
        for (const key of missing) cache.delete(key);
        throw error;
      },
    );
  };

  return async (keys, ...args) => {
    if (options.ttlMs <= 0) return new Map(await fetch(keys, ...args));
    const at = now();
    const found = new Map<string, V>();
    let missing: Set<string> | undefined;
    let waiting: Promise<void>[] | undefined;
    for (const key of keys) {
      const entry = cache.get(key);
      if (entry === undefined || ('expiresAt' in entry && entry.expiresAt <= at)) {
        (missing ??= new Set()).add(key);
      } else if ('value' in entry) {
        found.set(key, entry.value);
      } else {
        (waiting ??= []).push(
          entry.pending.then((value) => {
            if (value !== undefined) found.set(key, value);
          }),
        );
      }
    }
    if (!missing && !waiting) return found;
    // Awaited together, so that when both fail neither rejection goes unhandled.
    const [fetched] = await Promise.all([missing ? fetchMissing([...missing], args) : undefined, ...(waiting ?? [])]);
    if (fetched) for (const [key, value] of fetched) found.set(key, value);
    return found;
  };
}
