/** Latency percentiles of a sample, in the sample's unit. */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Percentiles by nearest rank over the sorted sample (all zero for an empty sample). The benches and the warm-up's report use it. */
export function percentiles(sample: readonly number[]): Percentiles {
  const sorted = [...sample].sort((a, b) => a - b);
  const at = (q: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted.at(-1) ?? 0 };
}

/** The percentiles a benchmark prints. */
export type PercentileName = 'p50' | 'p90' | 'p99' | 'p999';

const QUANTILES: Readonly<Record<PercentileName, number>> = { p50: 0.5, p90: 0.9, p99: 0.99, p999: 0.999 };

/**
 * How many samples must lie above a percentile for a benchmark to print it. With fewer, its nearest
 * rank is the maximum or one of the few samples just under it (the p99 of 30 samples is their
 * maximum, so is the p999 of 500), and one slow sample more or less moves it entirely.
 */
export const SAMPLES_BEYOND_A_PERCENTILE = 10;

/** The smallest sample whose `name` is printed: SAMPLES_BEYOND_A_PERCENTILE ÷ (1 − q), e.g. 1,000 for p99. */
export function samplesNeededFor(name: PercentileName): number {
  return Math.round(SAMPLES_BEYOND_A_PERCENTILE / (1 - QUANTILES[name]));
}

/** Whether `count` samples are enough to print their percentile `name` (samplesNeededFor). */
export function hasSamplesFor(name: PercentileName, count: number): boolean {
  return count >= samplesNeededFor(name);
}

/**
 * `value`, the percentile `name` of `count` samples, as a benchmark prints it: with `digits` decimals
 * when the sample is large enough (samplesNeededFor), `≤max` when it is not (the maximum, printed
 * beside it with the sample size, bounds it), `—` for no sample at all.
 */
export function formatPercentile(name: PercentileName, value: number, count: number, digits: number): string {
  if (count === 0) return '—';
  return hasSamplesFor(name, count) ? value.toFixed(digits) : '≤max';
}

/**
 * The least the percentile `name` of `p` is known to stay under: the percentile itself when the sample
 * is large enough to print it, else the maximum. A latency goal on p99 is judged on this, so a step of
 * 300 calls passes a 10 ms goal only when every call took under 10 ms; a plot draws it.
 */
export function percentileBound(p: Percentiles, name: PercentileName): number {
  return hasSamplesFor(name, p.count) ? p[name] : p.max;
}

/**
 * Latencies in milliseconds as a benchmark prints them: `p50 2.00 ms | p99 ≤max | max 9.10 ms (n=30)`,
 * the percentiles `names` (formatPercentile), then the maximum and the sample size.
 */
export function describeLatencies(p: Percentiles, names: readonly PercentileName[], digits: number): string {
  const inMs = (text: string): string => (text === '≤max' || text === '—' ? text : `${text} ms`);
  const shown = names.map((name) => `${name} ${inMs(formatPercentile(name, p[name], p.count, digits))}`);
  return `${[...shown, `max ${p.count === 0 ? '—' : inMs(p.max.toFixed(digits))}`].join(' | ')} (n=${p.count})`;
}
