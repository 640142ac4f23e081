// A starting recommender serves its first few thousand requests several times slower than a warm one:
// V8 has not optimised the pipeline yet and the shared-reads cache is empty. On the demo platform at
// 500 req/s, the first 2,000 requests after a restart had p99 52–90 ms (docs/benchmarks.md). So before
// it reports SERVING (grpc.health.v1) and logs ready, the recommender runs the Recommend pipeline, in
// process (service.ts), for users the projections know: Redis reads, the ANN search, the features, the
// score calls. With no user in the projections (a new platform) there is nothing to warm up with, and
// it does not: made-up users would only fill the shared-reads cache with empty rankings that then hide
// the first data for a TTL.
import { percentiles } from '@orrery/metrics';

/** Calls a warm-up keeps in flight. */
export const WARM_UP_CONCURRENCY = 8;
/** A warm-up stops after this long, whatever it had left to send (e.g. a dependency is slow). */
export const WARM_UP_TIME_LIMIT_MS = 15_000;
/** Calls after which a warm-up gives up when most calls so far failed or were degraded: a missing dependency is not warmed by calling it. */
export const WARM_UP_PROBE_CALLS = 100;
/** Users the warm-up asks the projections for. */
export const WARM_UP_USERS = 200;
/** Calls whose latency the report compares: the first this many and the last this many. */
const REPORTED_CALLS = 200;

/** How one warm-up call went: answered whole, answered degraded, or failed. */
export type WarmUpOutcome = 'whole' | 'degraded' | 'failed';

export interface WarmUpOptions {
  /** Calls to send at most. */
  readonly requests: number;
  readonly concurrency?: number;
  /** How long calls are sent, in ms (checked before each call; calls in flight then finish). */
  readonly timeLimitMs?: number;
  /** Aborted: no further call is sent (the service is shutting down). */
  readonly stop?: AbortSignal;
  readonly now?: () => number;
}

/** What a warm-up did, for the log. */
export interface WarmUpReport {
  readonly sent: number;
  readonly whole: number;
  readonly degraded: number;
  readonly failed: number;
  /** Distinct users called. */
  readonly users: number;
  readonly tookMs: number;
  /** Why it stopped before sending every call, if it did. */
  readonly stoppedEarly?: string;
  /**
   * p90 latency of the first and of the last REPORTED_CALLS calls, in ms: how much the warm-up bought
   * (a p99 of 200 calls would be their second slowest, @orrery/metrics' samplesNeededFor).
   */
  readonly firstCallsP90Ms: number;
  readonly lastCallsP90Ms: number;
}

/**
 * Sends up to `options.requests` calls of `call`, `concurrency` at a time, cycling through `userIds`
 * (none without users). Never throws: a failed call is counted. Stops when `stop` is aborted, at the
 * time limit (calls in flight then finish), or from WARM_UP_PROBE_CALLS calls on whenever fewer than
 * half of the calls so far were answered whole.
 */
export async function warmUp(call: (userId: string) => Promise<WarmUpOutcome>, userIds: readonly string[], options: WarmUpOptions): Promise<WarmUpReport> {
  const now = options.now ?? Date.now;
  const timeLimitMs = options.timeLimitMs ?? WARM_UP_TIME_LIMIT_MS;
  const started = now();
  const latencies: number[] = [];
  const counts: Record<WarmUpOutcome, number> = { whole: 0, degraded: 0, failed: 0 };
  let sent = 0;
  let stoppedEarly: string | undefined;
  const stopReason = (): string | undefined => {
    if (options.stop?.aborted) return 'stopped: the service is shutting down';
    if (now() - started >= timeLimitMs) return `time limit of ${timeLimitMs} ms`;
    const answered = counts.whole + counts.degraded + counts.failed;
    if (answered >= WARM_UP_PROBE_CALLS && counts.whole < answered / 2) return `${answered - counts.whole} of ${answered} calls failed or were degraded`;
    return undefined;
  };
  const caller = async (): Promise<void> => {
    while (sent < options.requests && userIds.length > 0 && stoppedEarly === undefined) {
      stoppedEarly = stopReason();
      if (stoppedEarly !== undefined) return;
      const userId = userIds[sent % userIds.length]!;
      sent += 1;
      const callStarted = now();
      const outcome = await call(userId).catch((): WarmUpOutcome => 'failed');
      latencies.push(now() - callStarted);
      counts[outcome] += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? WARM_UP_CONCURRENCY) }, caller));
  return {
    sent,
    ...counts,
    users: Math.min(userIds.length, sent),
    tookMs: now() - started,
    ...(stoppedEarly === undefined ? {} : { stoppedEarly }),
    firstCallsP90Ms: percentiles(latencies.slice(0, REPORTED_CALLS)).p90,
    lastCallsP90Ms: percentiles(latencies.slice(-REPORTED_CALLS)).p90,
  };
}
