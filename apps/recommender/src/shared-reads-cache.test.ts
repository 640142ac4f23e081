import type { ItemFacts } from './ports';
import { cachedBatchLookup, REFRESH_EARLIEST_SHARE, REFRESH_INTERVAL_SHARE, REFRESH_LATEST_SHARE, type TtlCacheOptions } from './shared-reads-cache';

const facts = (itemId: string, hidden = false): ItemFacts => ({ itemId, exists: true, hidden, categories: ['books'], publishedAtMs: undefined, popularity: 1, interactions: 1 });
const limits = { timeoutMs: 100 };

describe('cachedBatchLookup', () => {
  function source(): { calls: string[][]; hidden: Set<string>; withCache: (options: TtlCacheOptions) => (itemIds: readonly string[], callLimits: typeof limits) => Promise<(ItemFacts | undefined)[]> } {
    const calls: string[][] = [];
    const hidden = new Set<string>();
    const fetch = async (itemIds: readonly string[], callLimits: typeof limits): Promise<Map<string, ItemFacts>> => {
      expect(callLimits).toBe(limits);
      calls.push([...itemIds]);
      return new Map(itemIds.map((itemId) => [itemId, facts(itemId, hidden.has(itemId))]));
    };
    return { calls, hidden, withCache: (options) => cachedBatchLookup(fetch, options) };
  }

  it('when facts are younger than the TTL, only the missing items are asked for, in one call', async () => {
    const { withCache, calls } = source();
    let clock = 0;
    const cached = withCache({ ttlMs: 1_000, now: () => clock });
    await cached(['a', 'b'], limits);
    clock = 500;
    const answer = await cached(['a', 'b', 'c'], limits);
    expect(answer.map((facts) => facts?.itemId)).toEqual(['a', 'b', 'c']);
    expect(calls).toEqual([['a', 'b'], ['c']]);
  });

  it('when the TTL has passed, facts are read again, so hiding an item shows after at most the TTL', async () => {
    const { withCache, calls, hidden } = source();
    let clock = 0;
    const cached = withCache({ ttlMs: 1_000, now: () => clock });
    expect((await cached(['a'], limits))[0]?.hidden).toBe(false);
    hidden.add('a');
    clock = 1_000;
    expect((await cached(['a'], limits))[0]?.hidden).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('when the TTL is 0, every lookup goes to the source, and its answer is still in key order', async () => {
    const { withCache, calls } = source();
    const cached = withCache({ ttlMs: 0 });
    await cached(['a'], limits);
    await cached(['a'], limits);
    expect(calls).toHaveLength(2);
    const reversedWithoutX = cachedBatchLookup(async (keys: readonly string[]) => new Map(keys.filter((key) => key !== 'x').reverse().map((key) => [key, `v${key}`])), { ttlMs: 0 });
    expect(await reversedWithoutX(['a', 'x', 'b'])).toEqual(['va', undefined, 'vb']);
  });

  it('answers in key order with keys repeated and keys the source does not know, whether cached, missing or being fetched', async () => {
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const cached = cachedBatchLookup(async (keys: readonly string[]) => {
      calls.push([...keys]);
      await gate;
      return new Map(keys.filter((key) => key !== 'x').reverse().map((key) => [key, `v${key}`]));
    }, { ttlMs: 1_000, now: () => 0 });
    expect(await cached(['a', 'x', 'a', 'b'])).toEqual(['va', undefined, 'va', 'vb']); // all missing
    gate = new Promise<void>((resolve) => (release = resolve));
    const fetching = cached(['c', 'd']);
    const mixed = cached(['x', 'c', 'a', 'e', 'c', 'b']); // x and e missing, c being fetched, a and b cached
    release();
    expect(await fetching).toEqual(['vc', 'vd']);
    expect(await mixed).toEqual([undefined, 'vc', 'va', 've', 'vc', 'vb']);
    expect(calls).toEqual([['a', 'x', 'b'], ['c', 'd'], ['x', 'e']]);
  });

  it('when more items than the limit were fetched, the oldest are evicted', async () => {
    const { withCache, calls } = source();
    const cached = withCache({ ttlMs: 60_000, maxEntries: 2, now: () => 0 });
    await cached(['a', 'b', 'c'], limits);
    await cached(['b', 'c', 'a'], limits);
    expect(calls).toEqual([['a', 'b', 'c'], ['a']]);
  });
});

describe('cachedBatchLookup under concurrency and expiry', () => {
  it('when a key is being fetched, a concurrent lookup waits for that fetch instead of reading it again', async () => {
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const cached = cachedBatchLookup(async (keys: readonly string[]) => {
      calls.push([...keys]);
      await gate;
      return new Map(keys.map((key) => [key, `value of ${key}`]));
    }, { ttlMs: 1_000, now: () => 0 });
    const first = cached(['a', 'b']);
    const second = cached(['b', 'c']);
    release();
    expect(await first).toEqual(['value of a', 'value of b']);
    expect(await second).toEqual(['value of b', 'value of c']);
    expect(calls).toEqual([['a', 'b'], ['c']]);
  });

  it('when the fetch a lookup waits on fails, that lookup fails too, and the next one reads again', async () => {
    let fail = true;
    let calls = 0;
    const cached = cachedBatchLookup(async (keys: readonly string[]) => {
      calls += 1;
      await Promise.resolve();
      if (fail) throw new Error('redis down');
      return new Map(keys.map((key) => [key, key]));
    }, { ttlMs: 1_000, now: () => 0 });
    const [first, second] = await Promise.allSettled([cached(['a']), cached(['a', 'b'])]);
    expect(first).toMatchObject({ status: 'rejected', reason: { message: 'redis down' } });
    expect(second).toMatchObject({ status: 'rejected', reason: { message: 'redis down' } });
    fail = false;
    expect(await cached(['a'])).toEqual(['a']);
    expect(calls).toBe(3);
  });

  it('spreads refreshes over [REFRESH_EARLIEST_SHARE, REFRESH_LATEST_SHARE] of the TTL, so values fetched together come due apart', async () => {
    let clock = 0;
    const draws = [0, 0.999];
    const calls: string[][] = [];
    const cached = cachedBatchLookup(async (keys: readonly string[]) => {
      calls.push([...keys]);
      return new Map(keys.map((key) => [key, key]));
    }, { ttlMs: 1_000, now: () => clock, random: () => draws.shift() ?? 0.5 });
    await cached(['early', 'late']);
    clock = 1_000 * REFRESH_EARLIEST_SHARE - 1;
    await cached(['early', 'late']);
    clock = 1_000 * REFRESH_EARLIEST_SHARE;
    await cached(['early', 'late']);
    await settled();
    expect(calls).toEqual([['early', 'late'], ['early']]);
  });
});

/** Lets background refreshes (promise callbacks) run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('cachedBatchLookup refreshes ahead of expiry', () => {
  function counter(): { calls: string[][]; version: { n: number }; fetch: (keys: readonly string[]) => Promise<Map<string, string>> } {
    const calls: string[][] = [];
    const version = { n: 1 };
    return { calls, version, fetch: async (keys) => (calls.push([...keys]), new Map(keys.map((key) => [key, `${key}@${version.n}`]))) };
  }

  it('when a value read is due for refresh, the lookup answers it from memory at once and the next lookups see the refreshed value', async () => {
    const { calls, version, fetch } = counter();
    let clock = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const cached = cachedBatchLookup(async (keys: readonly string[]) => {
      const refresh = calls.length > 0;
      const values = await fetch(keys);
      if (refresh) await gate; // the refresh is slow: the lookup must not wait for it
      return values;
    }, { ttlMs: 1_000, now: () => clock, random: () => 0 });
    await cached(['a']);
    version.n = 2;
    clock = 1_000 * REFRESH_EARLIEST_SHARE;
    expect(await cached(['a'])).toEqual(['a@1']);
    expect(calls).toEqual([['a'], ['a']]);
    release();
    await settled();
    expect(await cached(['a'])).toEqual(['a@2']);
    expect(calls).toHaveLength(2);
  });

  it('runs a background refresh through inBackground, with the keys it reads, and a lookup\'s own fetch as it is', async () => {
    const { calls, fetch } = counter();
    let clock = 0;
    const background: string[][] = [];
    const cached = cachedBatchLookup(fetch, {
      ttlMs: 1_000,
      now: () => clock,
      random: () => 0,
      inBackground: (keys, refresh) => (background.push([...keys]), refresh()),
    });
    await cached(['a', 'b']);
    expect(background).toEqual([]);
    clock = 1_000 * REFRESH_EARLIEST_SHARE;
    await cached(['a', 'b', 'c']);
    await settled();
    expect(calls).toEqual([['a', 'b'], ['a', 'b'], ['c']]);
    expect(background).toEqual([['a', 'b']]);
  });

  it('when several values come due, one background fetch reads them all, and the next waits for the refresh interval', async () => {
    const { calls, fetch } = counter();
    let clock = 0;
    const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, now: () => clock, random: () => 0 });
    await cached(['a']);
    clock = 50;
    await cached(['b', 'c']);
    clock = 1_000 * REFRESH_EARLIEST_SHARE; // a is due: refreshed alone
    await cached(['a']);
    await settled();
    clock = 50 + 1_000 * REFRESH_EARLIEST_SHARE; // b and c are due, one interval not yet over since a's refresh…
    await cached(['b']);
    await cached(['c']);
    await settled();
    expect(calls).toEqual([['a'], ['b', 'c'], ['a']]);
    clock = 1_000 * (REFRESH_EARLIEST_SHARE + REFRESH_INTERVAL_SHARE); // …now it is: both in one fetch
    await cached(['a']);
    await settled();
    expect(calls).toEqual([['a'], ['b', 'c'], ['a'], ['b', 'c']]);
  });

  it('reads at most maxRefreshKeys in one background fetch, the first due first, and starts the next at once while that many are due', async () => {
    const { calls, fetch } = counter();
    let clock = 0;
    const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, now: () => clock, random: () => 0, maxRefreshKeys: 2 });
    await cached(['a', 'b', 'c', 'd', 'e']);
    clock = 1_000 * REFRESH_EARLIEST_SHARE; // all five are due
    await cached(['e', 'd', 'c', 'b', 'a']);
    await settled();
    await cached(['a']); // three still due, no interval over: two of them at once
    await settled();
    await cached(['a']); // one due: it waits for the interval
    await settled();
    expect(calls).toEqual([['a', 'b', 'c', 'd', 'e'], ['e', 'd'], ['c', 'b']]);
    clock += 1_000 * REFRESH_INTERVAL_SHARE;
    await cached(['b']);
    await settled();
    expect(calls).toEqual([['a', 'b', 'c', 'd', 'e'], ['e', 'd'], ['c', 'b'], ['a']]);
  });

  it('when a refreshed value is unchanged from the cached one, the cached object is kept; a changed one replaces it', async () => {
    let clock = 0;
    let score = 1;
    const fetch = async (keys: readonly string[]): Promise<Map<string, { score: number }>> => new Map(keys.map((key) => [key, { score }]));
    const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, now: () => clock, random: () => 0, unchanged: (old, fresh) => old.score === fresh.score });
    const first = (await cached(['a']))[0];
    clock = 1_000 * REFRESH_EARLIEST_SHARE;
    await cached(['a']);
    await settled();
    expect((await cached(['a']))[0]).toBe(first);
    score = 2;
    clock = 2 * 1_000 * REFRESH_EARLIEST_SHARE;
    await cached(['a']);
    await settled();
    expect((await cached(['a']))[0]).toEqual({ score: 2 });
  });

  it('when the generation moves, values fetched before are read again, and a fetch started before is not waited on', async () => {
    const { calls, version, fetch } = counter();
    let generation = 0;
    const cached = cachedBatchLookup(fetch, { ttlMs: 60_000, now: () => 0, generation: () => generation });
    expect((await cached(['a']))[0]).toBe('a@1');
    version.n = 2;
    expect((await cached(['a']))[0]).toBe('a@1');
    generation = 1;
    expect((await cached(['a']))[0]).toBe('a@2');
    version.n = 3;
    const before = cached(['b']); // fetching under generation 1…
    generation = 2;
    const after = cached(['b']); // …so this lookup reads again
    expect([(await before)[0], (await after)[0]]).toEqual(['b@3', 'b@3']);
    expect(calls).toEqual([['a'], ['a'], ['b'], ['b']]);
  });

  it('when a value is not read again, it is not refreshed, and once the TTL is over it is read in the lookup', async () => {
    const { calls, version, fetch } = counter();
    let clock = 0;
    const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, now: () => clock, random: () => 0.5 });
    await cached(['a']);
    await cached(['b']);
    version.n = 2;
    clock = 1_000;
    expect(await cached(['a'])).toEqual(['a@2']);
    await settled();
    expect(calls).toEqual([['a'], ['b'], ['a']]);
  });

  it('when a background refresh fails, the values are served until the TTL ends, then read in the lookup', async () => {
    const { calls, version, fetch } = counter();
    const errors: unknown[] = [];
    let fail = false;
    let clock = 0;
    const cached = cachedBatchLookup(async (keys: readonly string[]) => {
      if (fail) throw new Error('redis down');
      return fetch(keys);
    }, { ttlMs: 1_000, now: () => clock, random: () => 0, onRefreshError: (error) => errors.push(error) });
    await cached(['a']);
    fail = true;
    version.n = 2;
    clock = 1_000 * REFRESH_LATEST_SHARE;
    expect(await cached(['a'])).toEqual(['a@1']);
    await settled();
    expect(errors).toEqual([new Error('redis down')]);
    fail = false;
    clock = 1_000;
    expect(await cached(['a'])).toEqual(['a@2']);
  });

  it('with staleWhileRefreshMs, a value read past its TTL but within it is answered from memory at once and read again in the background', async () => {
    const { calls, version, fetch } = counter();
    let clock = 0;
    const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, staleWhileRefreshMs: 5_000, now: () => clock, random: () => 0.5 });
    await cached(['a', 'b']);
    version.n = 2;
    // A quiet spell of 4 TTLs: nothing read, nothing refreshed.
    clock = 4_000;
    expect(await cached(['a', 'b'])).toEqual(['a@1', 'b@1']);
    await settled();
    expect(calls).toEqual([['a', 'b'], ['a', 'b']]);
    expect(await cached(['a', 'b'])).toEqual(['a@2', 'b@2']);
  });

  it('with staleWhileRefreshMs, a value past it is read in the lookup, and a moved generation still drops a stale value at once', async () => {
    const { calls, version, fetch } = counter();
    let clock = 0;
    let generation = 0;
    const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, staleWhileRefreshMs: 5_000, now: () => clock, random: () => 0.5, generation: () => generation });
    await cached(['a', 'b']);
    version.n = 2;
    clock = 6_000;
    expect(await cached(['a'])).toEqual(['a@2']);
    expect(calls).toEqual([['a', 'b'], ['a']]);
    // Within the stale window, the same generation is answered from memory (and refreshed in the
    // background); a moved generation is read again at once.
    version.n = 3;
    await cached(['c']);
    version.n = 4;
    clock = 8_500;
    expect(await cached(['c'])).toEqual(['c@3']);
    generation = 1;
    version.n = 5;
    expect(await cached(['c'])).toEqual(['c@5']);
    expect(calls).toEqual([['a', 'b'], ['a'], ['c'], ['c'], ['c']]);
  });

  it('with refreshDelayMs, a background refresh starts that long after the lookup that found the values due', async () => {
    // Jest's timers, so "that long" is checked to the millisecond and a slow machine changes nothing.
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const { calls, version, fetch } = counter();
      let clock = 0;
      const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, refreshDelayMs: 40, now: () => clock, random: () => 0 });
      await cached(['a']);
      version.n = 2;
      clock = 1_000 * REFRESH_EARLIEST_SHARE;
      expect(await cached(['a'])).toEqual(['a@1']);
      await settled();
      expect(calls).toEqual([['a']]);
      await jest.advanceTimersByTimeAsync(39);
      expect(calls).toEqual([['a']]);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toEqual([['a'], ['a']]);
      expect(await cached(['a'])).toEqual(['a@2']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('with refreshDelayMs, a refresh that catches up right after another starts at once', async () => {
    const { calls, fetch } = counter();
    let clock = 0;
    const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, refreshDelayMs: 10_000, maxRefreshKeys: 2, now: () => clock, random: () => 0 });
    await cached(['a', 'b', 'c', 'd']);
    clock = 1_000 * REFRESH_EARLIEST_SHARE;
    await cached(['a', 'b', 'c', 'd']); // four due: the first refresh waits its delay…
    await settled();
    expect(calls).toHaveLength(1);
    clock += 1;
    await cached(['a']);
    expect(calls).toHaveLength(1); // …and no second one starts while it waits
  });

  it('with refreshDelayMs, once a refresh has ended, the next lookup that finds values due starts the next at once', async () => {
    const { calls, fetch } = counter();
    let clock = 0;
    const cached = cachedBatchLookup(fetch, { ttlMs: 1_000, refreshDelayMs: 20, maxRefreshKeys: 2, now: () => clock, random: () => 0 });
    await cached(['a', 'b', 'c', 'd']);
    clock = 1_000 * REFRESH_EARLIEST_SHARE;
    await cached(['a', 'b', 'c', 'd']);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls).toEqual([['a', 'b', 'c', 'd'], ['a', 'b']]);
    clock += 1;
    await cached(['c']);
    await settled();
    expect(calls).toEqual([['a', 'b', 'c', 'd'], ['a', 'b'], ['c', 'd']]);
  });
});
