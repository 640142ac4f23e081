import { watchOwnPauses } from './pauses';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a process watching its own pauses', () => {
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
});
