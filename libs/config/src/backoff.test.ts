import { backoffCeiling, backoffDelay, retryAfterFailure } from './backoff';

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

describe('retryAfterFailure', () => {
  const policy = { initialMs: 1_000, maxMs: 60_000 };
  /** The pauses of failures that come `ranMs` after each previous pause ended. */
  const pausesWhenFailing = (times: number, ranMs: number): number[] => {
    let retry = retryAfterFailure(undefined, 0, policy);
    const pauses = [retry.pauseMs];
    while (pauses.length < times) {
      retry = retryAfterFailure(retry, retry.resumesAtMs + ranMs, policy);
      pauses.push(retry.pauseMs);
    }
    return pauses;
  };

  it('when a failure comes back soon after every retry, the pause doubles up to the cap and stays there', () => {
    expect(pausesWhenFailing(10, 5_000)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('when a failure comes after a quiet spell longer than the cap, the pause starts again from the initial one', () => {
    const failing = retryAfterFailure(retryAfterFailure(retryAfterFailure(undefined, 0, policy), 1_000, policy), 3_000, policy);
    expect(failing).toEqual({ failures: 3, pauseMs: 4_000, resumesAtMs: 7_000 });
    expect(retryAfterFailure(failing, 7_000 + 60_000, policy)).toMatchObject({ failures: 4, pauseMs: 8_000 });
    expect(retryAfterFailure(failing, 7_000 + 60_001, policy)).toEqual({ failures: 1, pauseMs: 1_000, resumesAtMs: 68_001 });
  });
});
