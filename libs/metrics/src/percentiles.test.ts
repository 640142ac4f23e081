import { describeLatencies, formatPercentile, percentileBound, percentiles, samplesNeededFor } from './percentiles';

describe('percentiles', () => {
  it('when the sample is 1..100, p50 is 50 and p99 is 99 (nearest rank)', () => {
    const sample = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(sample)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, p999: 100, max: 100 });
  });

  it('when the sample is empty, every figure is zero', () => {
    expect(percentiles([])).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  });
});

describe('which percentiles a sample is large enough to print', () => {
  it('needs ten samples beyond each: 20 for p50, 100 for p90, 1,000 for p99, 10,000 for p999', () => {
    expect([samplesNeededFor('p50'), samplesNeededFor('p90'), samplesNeededFor('p99'), samplesNeededFor('p999')]).toEqual([20, 100, 1_000, 10_000]);
  });

  it('prints a percentile of a large enough sample as its value', () => {
    expect(formatPercentile('p99', 12.345, 1_000, 2)).toBe('12.35');
    expect(formatPercentile('p90', 3, 100, 1)).toBe('3.0');
  });

  it('marks a percentile of too few samples as bounded by their maximum, not as a figure of its own', () => {
    // The p99 of 30 freshness samples, and the p999 of 500 calls, are their maximum.
    expect(formatPercentile('p99', 40, 30, 2)).toBe('≤max');
    expect(formatPercentile('p999', 40, 9_999, 2)).toBe('≤max');
    expect(formatPercentile('p50', 2, 19, 2)).toBe('≤max');
  });

  it('prints a dash for a percentile of no sample', () => {
    expect(formatPercentile('p50', 0, 0, 2)).toBe('—');
  });

  it('bounds p99 by the maximum when the sample is too small for a p99', () => {
    const small = percentiles([...Array.from({ length: 299 }, () => 2), 30]);
    expect(small.p99).toBe(2);
    expect(percentileBound(small, 'p99')).toBe(30);
    const large = percentiles([...Array.from({ length: 999 }, () => 2), 30]);
    expect(percentileBound(large, 'p99')).toBe(2);
  });
});

describe('describeLatencies', () => {
  it('prints each percentile the sample is large enough for, the maximum and the sample size', () => {
    const sample = Array.from({ length: 1_000 }, (_, i) => i + 1);
    expect(describeLatencies(percentiles(sample), ['p50', 'p99', 'p999'], 1)).toBe('p50 500.0 ms | p99 990.0 ms | p999 ≤max | max 1000.0 ms (n=1000)');
  });

  it('prints the freshness of 30 users as a median and a maximum, without a p99 that would be the maximum', () => {
    const sample = Array.from({ length: 30 }, (_, i) => i + 1);
    expect(describeLatencies(percentiles(sample), ['p50', 'p90', 'p99', 'p999'], 2)).toBe('p50 15.00 ms | p90 ≤max | p99 ≤max | p999 ≤max | max 30.00 ms (n=30)');
    expect(describeLatencies(percentiles([]), ['p50'], 2)).toBe('p50 — | max — (n=0)');
  });
});
