// How stale the read model is: the lag from an event happening (occurred_at) and from its commit in
// the event store (committed_at) to its projection being applied. Kept in process, in fixed
// log-spaced buckets (constant memory), logged periodically and readable by tests and benches.

/** Bucket upper bounds in ms; the last bucket takes everything above. */
const BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 3_600_000, 86_400_000];

/** A summary of one lag distribution (quantiles are bucket upper bounds, so "at most"). */
export interface LagSummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** The buckets of a lag histogram, as a Prometheus histogram exposes them. */
export interface HistogramSnapshot {
  /** Upper bounds in ms (`le`), ascending; +Inf is implied after the last. */
  readonly boundsMs: readonly number[];
  /** Cumulative counts per bound, then the +Inf bucket (= count): boundsMs.length + 1 entries. */
  readonly cumulativeCounts: readonly number[];
  readonly sumMs: number;
  readonly count: number;
}

/** A constant-size histogram of lags in ms. */
export class LagHistogram {
  private readonly counts = new Array<number>(BOUNDS_MS.length + 1).fill(0);
  private total = 0;
  private sum = 0;
  private max = 0;

  /** Adds one lag (negative lags, from clock skew, count as 0). */
  record(lagMs: number): void {
    const lag = Math.max(0, lagMs);
    const bucket = BOUNDS_MS.findIndex((bound) => lag <= bound);
    const index = bucket < 0 ? BOUNDS_MS.length : bucket;
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total += 1;
    this.sum += lag;
    this.max = Math.max(this.max, lag);
  }

  /** The buckets (cumulative), sum and count, for a metrics endpoint. */
  snapshot(): HistogramSnapshot {
    let running = 0;
    const cumulativeCounts = this.counts.map((count) => (running += count));
    return { boundsMs: BOUNDS_MS, cumulativeCounts, sumMs: this.sum, count: this.total };
  }

  /** The count, bucketed quantiles and exact maximum recorded so far. */
  summary(): LagSummary {
    return { count: this.total, p50Ms: this.quantile(0.5), p90Ms: this.quantile(0.9), p99Ms: this.quantile(0.99), maxMs: this.max };
  }

  private quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let index = 0; index < this.counts.length; index += 1) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) return Math.min(BOUNDS_MS[index] ?? this.max, this.max);
    }
    return this.max;
  }
}

/** Lag to apply time, from occurred_at and from committed_at. */
export interface FreshnessReport {
  readonly fromOccurred: LagSummary;
  readonly fromCommitted: LagSummary;
}

/** The projector's two freshness histograms. */
export class Freshness {
  private fromOccurred = new LagHistogram();
  private fromCommitted = new LagHistogram();

  /** Records one applied event (either time may be unknown). */
  record(appliedMs: number, occurredMs: number | undefined, committedMs: number | undefined): void {
    if (occurredMs !== undefined) this.fromOccurred.record(appliedMs - occurredMs);
    if (committedMs !== undefined) this.fromCommitted.record(appliedMs - committedMs);
  }

  /**
   * Both histograms since start (or the last takeReport), for a Prometheus endpoint:
   * orrery_projector_lag_from_occurred_ms / _from_committed_ms (buckets, sum, count).
   */
  histograms(): { readonly fromOccurred: HistogramSnapshot; readonly fromCommitted: HistogramSnapshot } {
    return { fromOccurred: this.fromOccurred.snapshot(), fromCommitted: this.fromCommitted.snapshot() };
  }

  /** The distributions since start (or the last takeReport). */
  report(): FreshnessReport {
    return { fromOccurred: this.fromOccurred.summary(), fromCommitted: this.fromCommitted.summary() };
  }

  /** The report, then starts a new interval (for periodic logging). */
  takeReport(): FreshnessReport {
    const report = this.report();
    this.fromOccurred = new LagHistogram();
    this.fromCommitted = new LagHistogram();
    return report;
  }
}
