import { Gauge, Registry } from 'prom-client';
import { registerEventLoopLag, type EventLoopDelayHistogram } from './event-loop-lag';

/** The value of each nodejs_eventloop_lag_*_seconds series of `registry`, by what follows `lag_`. */
async function lagValues(registry: Registry): Promise<Record<string, number | undefined>> {
  const metrics = await registry.getMetricsAsJSON();
  return Object.fromEntries(metrics.map((metric) => [metric.name.replace(/^nodejs_eventloop_lag_(.*)_seconds$/, '$1'), metric.values[0]?.value]));
}

/**
 * What monitorEventLoopDelay({ resolution: 10 }) of Node 20 records for an idle loop: every sample near
 * 10 ms, the interval between two runs of its timer, though no timer ran more than ~2.5 ms late.
 */
function idleLoop(): EventLoopDelayHistogram & { resets: number } {
  const percentiles: Record<number, number> = { 50: 10.1e6, 90: 10.9e6, 99: 11.5e6 };
  return {
    resets: 0,
    enable: () => true,
    count: 98,
    min: 9.8e6,
    max: 12.5e6,
    mean: 10.3e6,
    stddev: 0.4e6,
    percentile: (percentile) => percentiles[percentile]!,
    reset() {
      this.resets += 1;
    },
  };
}

describe('event-loop lag gauges', () => {
  it('serve how late the sampling timer ran, not the interval between its runs (which holds the 10 ms resolution), and start over each scrape', async () => {
    const registry = new Registry();
    const idle = idleLoop();
    registerEventLoopLag(registry, ({ resolution }) => {
      expect(resolution).toBe(10);
      return idle;
    });
    const values = await lagValues(registry);
    expect(Object.keys(values).sort()).toEqual(['max', 'mean', 'min', 'p50', 'p90', 'p99', 'stddev']);
    // A timer that ran sooner than its interval (the loop's clock is cached per turn) was not late: 0, not -0.2 ms.
    expect(values.min).toBe(0);
    expect(values.max).toBeCloseTo(0.0025, 9);
    expect(values.mean).toBeCloseTo(0.0003, 9);
    expect(values.stddev).toBeCloseTo(0.0004, 9);
    expect(values.p50).toBeCloseTo(0.0001, 9);
    expect(values.p90).toBeCloseTo(0.0009, 9);
    expect(values.p99).toBeCloseTo(0.0015, 9);
    expect(idle.resets).toBe(1);
  });

  it('when no sample was taken since the previous scrape, keeps the values', async () => {
    const registry = new Registry();
    const loop = idleLoop();
    registerEventLoopLag(registry, () => loop);
    const before = await lagValues(registry);
    // An empty histogram reports a huge minimum and zeros.
    Object.assign(loop, { count: 0, min: 9.2e18, max: 0, mean: Number.NaN, stddev: Number.NaN, percentile: () => 0 });
    expect(await lagValues(registry)).toEqual(before);
    expect(loop.resets).toBe(1);
  });

  it('replaces series of the same names already registered, as prom-client default metrics register them', async () => {
    const registry = new Registry();
    new Gauge({ name: 'nodejs_eventloop_lag_p99_seconds', help: "prom-client's", registers: [registry] }).set(0.0115);
    registerEventLoopLag(registry, idleLoop);
    expect((await lagValues(registry)).p99).toBeCloseTo(0.0015, 9);
  });
});
