// Short-lived caches of the reads that are the same for every user: catalog facts, co-visitation
// lists and trending rankings. Every Recommend reads those for ~200 mostly popular items, and they
// were most of the Redis work per request; what is specific to the user (recent items, seen set,
// affinities) is never cached, so a click still moves the next request. A value is answered until the
// TTL, and past it for staleWhileRefreshMs more while it is read again in the background (0 by
// default; 5 TTLs in the recommender, where that is safe): a value read steadily is refreshed before
// its TTL ends as long as background refreshes succeed and keep up; one left unread, or whose
// refreshes fail, is at most TTL + staleWhileRefreshMs old, and then read in the request.
//
// Values that are read are refreshed ahead of their expiry, in the background and in batches (one
// fetch per REFRESH_INTERVAL_SHARE of the TTL at most), so a request does not wait for the Redis
// round trips of a refresh: at 500 req/s, reading expired values in the requests themselves made
// about half of them wait for one to three extra Redis round trips. A background fetch reads at most
// maxRefreshKeys keys, and the next one may start as soon as it is done when that many are due: the
// whole due set in one fetch decoded ~170 co-visit lists in one go, and the event loop stood still
// for 4–8 ms every 200 ms, which was most of Recommend's slow 1% (at 300 req/s: p99 5.8 ms with
// no refresh at all, 10–17 ms with it). A refreshed value that is `unchanged` from the cached one
// keeps the cached object, so an unchanged value is not copied into the old generation again. The
// fetching itself is still the larger cost: fewer refreshes (a longer TTL, with `generation` to drop
// values whose source changed) helped more than either (see docs/benchmarks.md).

export interface TtlCacheOptions<V = unknown> {
  /** How long a value is reused before it counts as expired, in ms (see staleWhileRefreshMs); 0 turns the cache off. */
  readonly ttlMs: number;
  /** Entries kept at most (the least recently fetched are evicted first); default 100 000. */
  readonly maxEntries?: number;
  /** Keys one background refresh reads at most; default REFRESH_BATCH_KEYS. */
  readonly maxRefreshKeys?: number;
  /**
   * How long past the TTL a value is still answered, in ms (default 0: not at all). A value read then
   * is answered at once and refreshed in the background, as one read past REFRESH_EARLIEST_SHARE is:
   * after a quiet spell longer than the TTL, the first requests do not read hundreds of values again
   * themselves. Only for values whose staleness cannot show something that must not be shown: the
   * recommender's catalog facts drop on every catalog change (`generation`), and its co-visit lists
   * and trending rankings are filtered by those facts.
   */
  readonly staleWhileRefreshMs?: number;
  /**
   * How long after a lookup finds values due their background refresh starts, in ms (default 0: at
   * once), unless a refresh ended less than REFRESH_INTERVAL_SHARE × TTL ago (catching up: at once). A
   * refresh's replies are decoded on the event loop; started at once, they compete with the rest of the
   * very request that found the values due, which a lone request after a quiet spell (dozens of values
   * due at once) felt most.
   */
  readonly refreshDelayMs?: number;
  /** Whether a refreshed value says the same as the cached one, which is then kept (default: never). */
  readonly unchanged?: (cached: V, fetched: V) => boolean;
  /**
   * The generation of the source's data: when it moves, every value fetched (or being fetched) under
   * an earlier one counts as expired, whatever its age. Default: always 0.
   */
  readonly generation?: () => number;
  readonly now?: () => number;
  /** Uniform in [0, 1); spreads refreshes (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
  /** Called when a background refresh fails (the values it was to refresh stay until they expire). */
  readonly onRefreshError?: (error: unknown) => void;
  /**
   * Runs a background refresh of `keys` (default: as it is, in the async context of the lookup that
   * found them due). The recommender makes it a trace of its own: in the request's context, its reads
   * went into that request's trace although the request did not wait for them.
   */
  readonly inBackground?: <R>(keys: readonly string[], refresh: () => Promise<R>) => Promise<R>;
}

/**
 * A value read after this share of the TTL (spread up to REFRESH_LATEST_SHARE, so values fetched
 * together come due apart) is refreshed in the background; it is still served until the TTL ends.
 */
export const REFRESH_EARLIEST_SHARE = 0.6;
export const REFRESH_LATEST_SHARE = 0.8;
/**
 * A background refresh starts at most once per this share of the TTL, fetching the keys that came due
 * (at most maxRefreshKeys), unless that many are due: then as soon as the one before is done.
 */
export const REFRESH_INTERVAL_SHARE = 0.1;
/** Keys one background refresh reads at most, by default: its decoding is a short task of the event loop. */
export const REFRESH_BATCH_KEYS = 32;

type Entry<V> =
  | { readonly value: V; readonly refreshAt: number; readonly expiresAt: number; readonly generation: number }
  | { readonly pending: Promise<V | undefined>; readonly generation: number };

/**
 * Wraps a keyed batch lookup: keys fetched less than the TTL ago are answered from memory, keys
 * another call is fetching right now wait for that fetch, and the rest are asked of `fetch` in one
 * call. The answer holds the value of `keys[i]` at `[i]` (an array, not a map: a request looks up
 * ~220 catalog facts, and filling a map with them cost twice the lookups). Keys `fetch` does not
 * answer are not cached and answered undefined; a failed fetch caches nothing and fails every call
 * waiting on it.
 * A value read when it is due for refresh (REFRESH_EARLIEST_SHARE..REFRESH_LATEST_SHARE of the TTL
 * after its fetch) is still answered from memory, and queued for a background fetch with the other
 * due keys, started by the lookup (with its `args`) when none runs and the last started at least
 * REFRESH_INTERVAL_SHARE × TTL ago, or at once when maxRefreshKeys are due; each background fetch
 * reads at most maxRefreshKeys keys, the longest due first. A value that is never read again is not
 * refreshed, and expires.
 */
export function cachedBatchLookup<V, A extends unknown[]>(
  fetch: (keys: readonly string[], ...args: A) => Promise<ReadonlyMap<string, V>>,
  options: TtlCacheOptions<V>,
): (keys: readonly string[], ...args: A) => Promise<(V | undefined)[]> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const maxEntries = options.maxEntries ?? 100_000;
  const maxRefreshKeys = options.maxRefreshKeys ?? REFRESH_BATCH_KEYS;
  const generationNow = options.generation ?? (() => 0);
  const staleMs = options.staleWhileRefreshMs ?? 0;
  const refreshIntervalMs = options.ttlMs * REFRESH_INTERVAL_SHARE;
  const cache = new Map<string, Entry<V>>();
  const due = new Set<string>();
  let refreshing = false;
  let lastRefreshAt = -Infinity;
  let lastRefreshEndedAt = -Infinity;

  const store = (key: string, value: V, at: number, generation: number): void => {
    cache.delete(key);
    const refreshShare = REFRESH_EARLIEST_SHARE + (REFRESH_LATEST_SHARE - REFRESH_EARLIEST_SHARE) * random();
    cache.set(key, { value, refreshAt: at + options.ttlMs * refreshShare, expiresAt: at + options.ttlMs, generation });
  };

  const evictOverLimit = (): void => {
    // Map iteration is insertion order: the first keys are the least recently fetched.
    for (const key of cache.keys()) {
      if (cache.size <= maxEntries) break;
      cache.delete(key);
    }
  };

  const fetchMissing = (missing: string[], generation: number, args: A): Promise<ReadonlyMap<string, V>> => {
    const fetched = fetch(missing, ...args);
    for (const key of missing) {
      const pending = fetched.then((values) => values.get(key));
      pending.catch(() => undefined); // whoever waits on it sees the failure; nobody waiting is fine
      cache.delete(key);
      cache.set(key, { pending, generation });
    }
    return fetched.then(
      (values) => {
        const at = now();
        for (const key of missing) {
          cache.delete(key);
          const value = values.get(key);
          if (value !== undefined) store(key, value, at, generation);
        }
        evictOverLimit();
        return values;
      },
      (error: unknown) => {
        for (const key of missing) cache.delete(key);
        throw error;
      },
    );
  };

  const refreshDue = (at: number, args: A): void => {
    if (due.size === 0 || refreshing || (due.size < maxRefreshKeys && at - lastRefreshAt < refreshIntervalMs)) return;
    // A Set iterates in insertion order: the keys that came due first.
    const keys: string[] = [];
    for (const key of due) {
      if (keys.length === maxRefreshKeys) break;
      keys.push(key);
    }
    for (const key of keys) due.delete(key);
    refreshing = true;
    lastRefreshAt = at;
    const generation = generationNow();
    const refresh = (): Promise<ReadonlyMap<string, V>> => fetch(keys, ...args);
    const start = (): Promise<ReadonlyMap<string, V>> => (options.inBackground ? options.inBackground(keys, refresh) : refresh());
    // A refresh that follows one just done is catching up (many values due at once): it goes at once,
    // or refreshes would fall behind the values coming due.
    const delayMs = at - lastRefreshEndedAt < refreshIntervalMs ? 0 : (options.refreshDelayMs ?? 0);
    (delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs).unref()).then(start) : start())
      .then(
        (values) => {
          const fetchedAt = now();
          for (const key of keys) {
            const entry = cache.get(key);
            // Evicted meanwhile, expired and being fetched for a request (that fetch stores it), or of an
            // earlier generation than this fetch (it was read before the source moved).
            if (entry === undefined || 'pending' in entry || entry.generation !== generation) continue;
            const value = values.get(key);
            if (value === undefined) cache.delete(key);
            else store(key, options.unchanged?.(entry.value, value) ? entry.value : value, fetchedAt, generation);
          }
          evictOverLimit();
        },
        (error: unknown) => options.onRefreshError?.(error),
      )
      .finally(() => {
        refreshing = false;
        lastRefreshEndedAt = now();
      });
  };

  return async (keys, ...args) => {
    if (options.ttlMs <= 0) {
      const fetched = await fetch(keys, ...args);
      return keys.map((key) => fetched.get(key));
    }
    const at = now();
    const generation = generationNow();
    const found = new Array<V | undefined>(keys.length);
    let missing: Set<string> | undefined;
    let waiting: Promise<void>[] | undefined;
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index]!;
      const entry = cache.get(key);
      if (entry === undefined || entry.generation !== generation || ('expiresAt' in entry && entry.expiresAt + staleMs <= at)) {
        (missing ??= new Set()).add(key);
      } else if ('value' in entry) {
        found[index] = entry.value;
        if (entry.refreshAt <= at) due.add(key);
      } else {
        (waiting ??= []).push(
          entry.pending.then((value) => {
            found[index] = value;
          }),
        );
      }
    }
    refreshDue(at, args);
    if (!missing && !waiting) return found;
    // Awaited together, so that when both fail neither rejection goes unhandled.
    const [fetched] = await Promise.all([missing ? fetchMissing([...missing], generation, args) : undefined, ...(waiting ?? [])]);
    if (fetched) for (let index = 0; index < keys.length; index++) if (missing!.has(keys[index]!)) found[index] = fetched.get(keys[index]!);
    return found;
  };
}
