import { describeOwnPauses, watchOwnPauses } from './own-pauses';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the load generator watching its own pauses', () => {
  it('sees an event loop that stood still and the collections it made', async () => {
    const watch = watchOwnPauses();
    await tick(30);
    // Stands still for 80 ms, and allocates enough short-lived objects for a few scavenges.
    const until = Date.now() + 80;
    let kept = 0;
    while (Date.now() < until) kept += Array.from({ length: 1_000 }, (_, index) => ({ index })).length;
    await tick(50);
    const pauses = watch.stop();
    expect(kept).toBeGreaterThan(0);
    expect(pauses.loopDelayMaxMs).toBeGreaterThanOrEqual(60);
    expect(pauses.garbageCollections).toBeGreaterThan(0);
    expect(pauses.garbageCollectionMs).toBeGreaterThan(0);
    expect(pauses.longestGarbageCollectionMs).toBeLessThanOrEqual(pauses.garbageCollectionMs);
  });

  it('says what they were in one line', () => {
    expect(describeOwnPauses({ garbageCollections: 27, garbageCollectionMs: 167.4, longestGarbageCollectionMs: 8.71, loopDelayP99Ms: 2.84, loopDelayMaxMs: 10.6 })).toBe(
      "load generator's own pauses (requests due meanwhile are measured late by as much): 27 garbage collections, 167 ms in all, the longest 8.7 ms; event-loop delay p99 2.8 ms, max 10.6 ms",
    );
  });
});
