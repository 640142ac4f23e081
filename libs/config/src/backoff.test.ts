import { backoffCeiling, backoffDelay } from './backoff';

describe('retry backoff', () => {
  const policy = { initialMs: 50, maxMs: 1_000 };

  it('when retries repeat, the pause doubles from the initial delay up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffCeiling(attempt, policy))).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
  });

  it('when jittered, the delay lies between zero and that pause', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((attempt) => backoffDelay(attempt, policy, () => 1))).toEqual([50, 100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(100);
  });
});
