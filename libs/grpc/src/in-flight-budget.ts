import { ServiceError, status } from './errors';

/** What a refusal says, from the budget's state when the caller gave up waiting. */
export type RefusalMessage = (state: { readonly inFlight: number; readonly capacity: number; readonly waitedMs: number }) => string;

/**
 * A bound on the work a service has in flight, so a flood slows callers down (or is refused)
 * instead of exhausting memory or queueing without end: ingestion counts the events it has forwarded
 * to command and not yet seen committed, the recommender the requests it is serving. A caller over
 * budget waits up to `waitMs` for room (FIFO), then gets RESOURCE_EXHAUSTED saying why
 * (`refusal`) and should retry with backoff.
 */
export class InFlightBudget {
  private used = 0;
  private readonly waiting: { readonly count: number; readonly admit: () => void }[] = [];

  constructor(
    /** Units (events, requests) allowed in flight at once. */
    readonly capacity: number,
    /** How long a caller waits for room before it is refused. */
    private readonly waitMs: number,
    private readonly refusal: RefusalMessage,
  ) {}

  /** Units (events, requests) currently in flight. */
  get inFlight(): number {
    return this.used;
  }

  /**
   * Runs `work` holding `count` units of the budget. A count above the capacity is admitted
   * alone (when nothing else is in flight), so a legal batch is never refused forever.
   */
  async run<T>(count: number, work: () => Promise<T>): Promise<T> {
    await this.acquire(count);
    try {
      return await work();
    } finally {
      this.release(count);
    }
  }

  private async acquire(count: number): Promise<void> {
    if (this.waiting.length === 0 && this.fits(count)) {
      this.used += count;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const entry = {
        count,
        admit: () => {
          clearTimeout(timer);
          this.used += count;
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(new ServiceError(status.RESOURCE_EXHAUSTED, this.refusal({ inFlight: this.used, capacity: this.capacity, waitedMs: this.waitMs })));
        // Our departure may let a smaller waiter behind us in.
        this.admitWaiting();
      }, this.waitMs);
      this.waiting.push(entry);
    });
  }

  private release(count: number): void {
    this.used -= count;
    this.admitWaiting();
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.count)) this.waiting.shift()!.admit();
  }

  private fits(count: number): boolean {
    return this.used === 0 || this.used + count <= this.capacity;
  }
}
