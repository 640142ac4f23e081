/** How retries space out: exponential from `initialMs`, capped at `maxMs`, with full jitter. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * The wait before retry number `attempt` (1 = first retry): a uniformly random delay in
 * [0, min(maxMs, initialMs · 2^(attempt-1))], so many emitters retrying together spread out.
 * `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}
