import { openLoopBatchSizes, sendOnSchedule, sentPerSecond, type ScheduleClock } from './open-loop';

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

describe('sendOnSchedule', () => {
  /** A clock whose every wait ends `lateMs` after the time waited for, and `stallMs` more at the `stallAt`th wait. */
  function lateClock(lateMs: number, stallAt = -1, stallMs = 0): ScheduleClock {
    let now = 1_000;
    let waits = 0;
    return {
      now: () => now,
      until: async (dueMs) => {
        now = Math.max(now, dueMs + lateMs + (waits++ === stallAt ? stallMs : 0));
      },
    };
  }

  it('sends the asked rate exactly though every timer fires late: each due time counts from the start', async () => {
    const sentAt: number[] = [];
    const clock = lateClock(3);
    const loop = await sendOnSchedule(5_000, 50, 10, () => sentAt.push(clock.now()), clock);
    expect(loop).toEqual({ sent: 50_000, lastSentMs: 499 * 20 + 3, scheduledMs: 10_000 });
    // The 500th batch leaves 3 ms after its due time, not 500 × 3 ms.
    expect(sentAt.at(-1)! - sentAt[0]!).toBe(499 * 20);
    expect(sentPerSecond(loop.sent, loop.lastSentMs, loop.scheduledMs)).toBe(5_000);
  });

  it('after a stall, sends the batches that came due at once and keeps to the schedule after them', async () => {
    const clock = lateClock(1, 100, 300);
    const sizes: number[] = [];
    const loop = await sendOnSchedule(1_000, 100, 5, (size) => sizes.push(size), clock);
    expect(loop.sent).toBe(5_000);
    expect(loop.lastSentMs).toBe(499 * 10 + 1);
    expect(sizes).toEqual(Array.from({ length: 500 }, () => 10));
  });

  it('reads a rate below the asked one when the last batch leaves late', async () => {
    const loop = await sendOnSchedule(1_000, 100, 5, () => undefined, lateClock(1, 499, 1_250));
    expect(sentPerSecond(loop.sent, loop.lastSentMs, loop.scheduledMs)).toBeCloseTo(5_000 / 6.241, 6);
  });
});
