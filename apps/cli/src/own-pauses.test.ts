import { describeOwnPauses } from './own-pauses';

describe('the load generator\'s own pauses', () => {
  it('says what they were in one line', () => {
    expect(describeOwnPauses({ garbageCollections: 27, garbageCollectionMs: 167.4, longestGarbageCollectionMs: 8.71, loopDelayP99Ms: 2.84, loopDelayMaxMs: 10.6 })).toBe(
      "load generator's own pauses (requests due meanwhile are measured late by as much): 27 garbage collections, 167 ms in all, the longest 8.7 ms; event-loop delay p99 2.8 ms, max 10.6 ms",
    );
  });
});
