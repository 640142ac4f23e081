import { percentiles } from './percentiles';

describe('percentiles', () => {
  it('when the sample is 1..100, p50 is 50 and p99 is 99 (nearest rank)', () => {
    const sample = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(sample)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, p999: 100, max: 100 });
  });

  it('when the sample is empty, every figure is zero', () => {
    expect(percentiles([])).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  });
});
