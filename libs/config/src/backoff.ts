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

/** Where a loop that retries for as long as it runs (a consumer, a relay) stands after a failure. */
export interface RetryAfterFailure {
  /** Failures in a row, this one included: 1 after a quiet spell. */
  readonly failures: number;
  /** The pause before the next try: backoffCeiling(failures). */
  readonly pauseMs: number;
  /** When that pause ends, in ms since the epoch. */
  readonly resumesAtMs: number;
}

/**
 * The retry after a failure at `nowMs`, following the one of the failure before (undefined: none).
 * The pause doubles after each failure up to maxMs, so something that keeps failing is retried once
 * every maxMs, not in a spin. It starts again from initialMs when the failure came more than maxMs
 * after the previous pause ended: after a quiet spell, not merely after a long pause.
 */
export function retryAfterFailure(previous: RetryAfterFailure | undefined, nowMs: number, policy: BackoffPolicy): RetryAfterFailure {
  const failures = previous !== undefined && nowMs - previous.resumesAtMs <= policy.maxMs ? previous.failures + 1 : 1;
  const pauseMs = backoffCeiling(failures, policy);
  return { failures, pauseMs, resumesAtMs: nowMs + pauseMs };
}
