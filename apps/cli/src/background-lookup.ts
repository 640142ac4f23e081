// `bench ingest` reads where its sampled events sit in the stream from Postgres while it polls the
// projector's watermarks in Redis every few milliseconds. Awaited in the polling loop, each lookup (a
// few ms, more when Postgres is busy) held back the next poll, and so lengthened the lag it measured;
// run beside the loop, the polls keep their pace and the positions arrive when they arrive.

/**
 * Looks things up in the background: at most one lookup in flight, started at most every `intervalMs`;
 * a lookup of some requests (R) finds a value (V) for some keys (K). The polling loop asks (`request`)
 * and collects (`take`) without ever waiting for the lookup.
 */
export class BackgroundLookup<R, K, V> {
  private inFlight: Promise<void> | undefined;
  private lastStartedMs = -Infinity;
  private found = new Map<K, V>();
  private failure: unknown;

  constructor(
    private readonly lookup: (requests: readonly R[]) => Promise<ReadonlyMap<K, V>>,
    private readonly intervalMs: number,
  ) {}

  /** Starts a lookup of `requests` at `nowMs`, unless there are none, one is in flight, or the last started less than intervalMs before; never waits for it. */
  request(requests: readonly R[], nowMs: number): void {
    if (requests.length === 0 || this.inFlight !== undefined || nowMs - this.lastStartedMs < this.intervalMs) return;
    this.lastStartedMs = nowMs;
    this.inFlight = this.lookup(requests).then(
      (found) => {
        for (const [key, value] of found) this.found.set(key, value);
      },
      (error: unknown) => void (this.failure ??= error),
    ).finally(() => (this.inFlight = undefined));
  }

  /** What the lookups finished since the last take found, each once; throws the error of a lookup that failed. */
  take(): Map<K, V> {
    if (this.failure !== undefined) throw this.failure;
    const found = this.found;
    this.found = new Map();
    return found;
  }

  /** Resolves once no lookup is in flight (before closing what the lookups use). */
  async settled(): Promise<void> {
    await this.inFlight;
  }
}
