import { ServiceError, status } from '@orrery/grpc';

/**
 * A bound on the events ingestion has forwarded to command and not yet seen acknowledged, so a
 * flood slows producers down instead of exhausting memory. A caller over budget waits up to
 * `waitMs` for room (FIFO), then gets RESOURCE_EXHAUSTED and should retry with backoff.
 */
export class InFlightBudget {
  private used = 0;
  private readonly waiting: { readonly count: number; readonly admit: () => void }[] = [];

  constructor(
    /** Events allowed in flight at once. */
    readonly capacity: number,
    /** How long a caller waits for room before it is refused. */
    private readonly waitMs: number,
  ) {}

  /** Events currently in flight. */
  get inFlight(): number {
    return this.used;
  }

  /**
   * Runs `work` holding `count` events of the budget. A count above the capacity is admitted
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
        reject(
          new ServiceError(
            status.RESOURCE_EXHAUSTED,
            `ingestion is at its in-flight budget (${this.used} of ${this.capacity} events awaiting commit; waited ${this.waitMs} ms): retry with backoff and the same event ids`,
          ),
        );
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
