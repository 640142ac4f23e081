/** How retries space out: exponential from `initialMs`, doubling after each failure, capped at `maxMs`. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** The pause before retry number `attempt` (1 = the first retry): min(maxMs, initialMs · 2^(attempt-1)). */
export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * The wait before retry number `attempt` (1 = first retry): a uniformly random delay in
 * [0, backoffCeiling(attempt)], so many clients retrying together spread out (full jitter).
 * `random` is injectable for tests.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.round(random() * backoffCeiling(attempt, policy));
}
