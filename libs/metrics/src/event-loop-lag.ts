// Node's event-loop lag as Prometheus gauges, of how late the loop ran a timer. prom-client's default
// metrics serve the same series from monitorEventLoopDelay's raw samples, each the whole interval
// between two runs of its sampling timer: an idle loop read ~10 ms (its resolution) in every one.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';
import { LOOP_DELAY_RESOLUTION_MS, timerLateness } from './pauses';

/** What the gauges read of monitorEventLoopDelay's histogram (a test gives its own). */
export type EventLoopDelayHistogram = Pick<IntervalHistogram, 'enable' | 'count' | 'min' | 'max' | 'mean' | 'stddev' | 'percentile' | 'reset'>;

const PERCENTILES = [50, 90, 99] as const;

/** The series registerEventLoopLag serves, which prom-client's collectDefaultMetrics also registers (with the interval in them). */
export const EVENT_LOOP_LAG_SERIES = [
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  ...PERCENTILES.map((percentile) => `nodejs_eventloop_lag_p${percentile}_seconds`),
] as const;

/**
 * Registers `nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds` in `registry`: how late
 * the event loop ran a timer sampled every LOOP_DELAY_RESOLUTION_MS, over the samples since the
 * previous scrape (timerLateness: the sampling interval taken out; ~0 on an idle loop). A scrape
 * with no sample since the previous one keeps the values. Any series of those names already in
 * `registry` (prom-client's defaults) is replaced. `monitor` is node:perf_hooks' monitorEventLoopDelay
 * unless a test gives another.
 */
export function registerEventLoopLag(registry: Registry, monitor: (options: { resolution: number }) => EventLoopDelayHistogram = monitorEventLoopDelay): void {
  for (const name of EVENT_LOOP_LAG_SERIES) registry.removeSingleMetric(name);
  const delay = monitor({ resolution: LOOP_DELAY_RESOLUTION_MS });
  delay.enable();
  const seconds = (sampleNanoseconds: number): number => timerLateness(sampleNanoseconds) / 1e9;
  const gauge = (name: string, help: string, aggregator: 'min' | 'max' | 'average', collect?: () => void): Gauge =>
    new Gauge({ name, help: `${help} (seconds; sampled every ${LOOP_DELAY_RESOLUTION_MS} ms, since the previous scrape)`, registers: [registry], aggregator, ...(collect ? { collect } : {}) });
  // The first gauge's collect sets them all, once a scrape: it runs before the others are read.
  const min = gauge('nodejs_eventloop_lag_min_seconds', 'How late the event loop ran a timer: the least', 'min', () => {
    if (delay.count === 0) return;
    min.set(seconds(delay.min));
    max.set(seconds(delay.max));
    mean.set(seconds(delay.mean));
    stddev.set(delay.stddev / 1e9);
    for (const [index, percentile] of PERCENTILES.entries()) percentileGauges[index]!.set(seconds(delay.percentile(percentile)));
    delay.reset();
  });
  const max = gauge('nodejs_eventloop_lag_max_seconds', 'How late the event loop ran a timer: the most', 'max');
  const mean = gauge('nodejs_eventloop_lag_mean_seconds', 'How late the event loop ran a timer: the mean', 'average');
  const stddev = gauge('nodejs_eventloop_lag_stddev_seconds', 'How late the event loop ran a timer: the standard deviation', 'average');
  const percentileGauges = PERCENTILES.map((percentile) => gauge(`nodejs_eventloop_lag_p${percentile}_seconds`, `How late the event loop ran a timer: the ${percentile}th percentile`, 'average'));
}
