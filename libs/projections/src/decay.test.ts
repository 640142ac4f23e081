import { decayedValue, DECAY_EPOCH_MS, logAddExp, logDecayedWeight } from './decay';

const HOUR = 3_600_000;
const halfLife = 72 * HOUR;

describe('exponential decay in log space', () => {
  const t = DECAY_EPOCH_MS + 400 * 24 * HOUR;

  it('when read at the time it happened, an event is worth its weight', () => {
    expect(decayedValue(logDecayedWeight(8, t, halfLife), t, halfLife)).toBeCloseTo(8, 9);
  });

  it('when one half-life passes, the value halves; after two, it quarters', () => {
    const score = logDecayedWeight(8, t, halfLife);
    expect(decayedValue(score, t + halfLife, halfLife)).toBeCloseTo(4, 9);
    expect(decayedValue(score, t + 2 * halfLife, halfLife)).toBeCloseTo(2, 9);
  });

  it('when events accumulate by log-add-exp, the value is the sum of their decayed weights', () => {
    const later = t + halfLife;
    const score = logAddExp(logDecayedWeight(4, t, halfLife), logDecayedWeight(1, later, halfLife));
    expect(decayedValue(score, later, halfLife)).toBeCloseTo(4 / 2 + 1, 9);
  });

  it('when time passes, the ranking of stored scores does not change but an old burst falls behind a fresh trickle', () => {
    const oldBurst = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].reduce((score) => logAddExp(score, logDecayedWeight(1, t, halfLife)), -Infinity);
    const freshTrickle = logAddExp(logDecayedWeight(1, t + 4 * halfLife, halfLife), logDecayedWeight(1, t + 4 * halfLife, halfLife));
    expect(freshTrickle).toBeGreaterThan(oldBurst); // 2 now beats 10 that are 4 half-lives old (0.625)
    const now = t + 4 * halfLife;
    expect(decayedValue(freshTrickle, now, halfLife)).toBeCloseTo(2, 9);
    expect(decayedValue(oldBurst, now, halfLife)).toBeCloseTo(10 / 16, 9);
  });

  it('when scores are decades past the epoch, they stay finite', () => {
    const farFuture = DECAY_EPOCH_MS + 50 * 365 * 24 * HOUR;
    const score = logDecayedWeight(1, farFuture, halfLife);
    expect(Number.isFinite(score)).toBe(true);
    expect(decayedValue(logAddExp(score, score), farFuture, halfLife)).toBeCloseTo(2, 6);
  });

  it('when there is no score or a non-positive weight, the value is 0 and the weight is refused', () => {
    expect(decayedValue(undefined, t, halfLife)).toBe(0);
    expect(() => logDecayedWeight(0, t, halfLife)).toThrow(RangeError);
    expect(logAddExp(-Infinity, 3)).toBe(3);
  });
});
