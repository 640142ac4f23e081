import { openLoopBatchSizes, sentPerSecond } from './open-loop';

describe('open-loop batch sizes', () => {
  it('sends a rate that is not a whole number of events a tick exactly, in batches of the two sizes around it', () => {
    expect(openLoopBatchSizes(250, 100, 6)).toEqual([2, 3, 2, 3, 2, 3]);
    const sizes = openLoopBatchSizes(2_500, 100, 1_000);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(25_000);
    expect(new Set(sizes)).toEqual(new Set([25]));
  });

  it('under one event a tick, sends one every few ticks and nothing in between', () => {
    expect(openLoopBatchSizes(50, 100, 6)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(openLoopBatchSizes(30, 100, 10)).toEqual([0, 0, 0, 1, 0, 0, 1, 0, 0, 1]);
  });

  it('sends every event due within the ticks, the last at the last tick', () => {
    for (const rate of [1, 99, 101, 333, 5_000]) {
      const sizes = openLoopBatchSizes(rate, 100, 700);
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(rate * 7);
      expect(sizes.at(-1)).toBeGreaterThan(0);
    }
  });
});

describe('sentPerSecond', () => {
  it('reads the asked rate of a loop that sent on schedule, its last call one interval before the end', () => {
    // 500 calls in 5 s at 100/s: the last is due at 4.99 s.
    expect(sentPerSecond(500, 4_990, 5_000)).toBe(100);
  });

  it('reads less when the generator fell behind and sent its last call late', () => {
    expect(sentPerSecond(500, 6_250, 5_000)).toBe(80);
  });

  it('is zero for a loop that was to send nothing', () => {
    expect(sentPerSecond(0, 0, 0)).toBe(0);
  });
});
