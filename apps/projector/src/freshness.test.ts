import { Freshness, LagHistogram } from './freshness';

describe('freshness', () => {
  it('when lags are recorded, quantiles are bucket bounds at or above them and the maximum is exact', () => {
    const histogram = new LagHistogram();
    for (let lag = 1; lag <= 100; lag += 1) histogram.record(lag);
    const summary = histogram.summary();
    expect(summary.count).toBe(100);
    expect(summary.p50Ms).toBe(50);
    expect(summary.p99Ms).toBe(100);
    expect(summary.maxMs).toBe(100);
  });

  it('when an event has only a commit time, only the commit lag is recorded; taking a report starts over', () => {
    const freshness = new Freshness();
    freshness.record(1_000, undefined, 990);
    expect(freshness.report().fromCommitted).toMatchObject({ count: 1, maxMs: 10 });
    expect(freshness.report().fromOccurred.count).toBe(0);
    freshness.takeReport();
    expect(freshness.report().fromCommitted.count).toBe(0);
  });

  it('when a metrics endpoint reads the histogram, buckets are cumulative per bound and end with the total', () => {
    const histogram = new LagHistogram();
    [0.5, 3, 3, 7_000, 10 ** 9].forEach((lag) => histogram.record(lag));
    const snapshot = histogram.snapshot();
    const at = (boundMs: number): number => snapshot.cumulativeCounts[snapshot.boundsMs.indexOf(boundMs)]!;
    expect([at(1), at(2), at(5), at(5_000), at(10_000)]).toEqual([1, 1, 3, 3, 4]);
    expect(snapshot.cumulativeCounts).toHaveLength(snapshot.boundsMs.length + 1);
    expect(snapshot.cumulativeCounts.at(-1)).toBe(5);
    expect(snapshot).toMatchObject({ count: 5, sumMs: 0.5 + 3 + 3 + 7_000 + 10 ** 9 });
  });
});
