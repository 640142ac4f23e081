/** A wake-up signal that is never lost: a signal given while nobody waits ends the next wait at once. */
export class Wakeup {
  private pending = false;
  private wake: (() => void) | undefined;

  /** Wakes the current waiter, or the next one. */
  signal(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Resolves on a signal (possibly an earlier unconsumed one) or after `timeoutMs`. */
  async wait(timeoutMs: number): Promise<void> {
    if (!this.pending) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        const self = this;
        function done(): void {
          clearTimeout(timer);
          self.wake = undefined;
          resolve();
        }
        this.wake = done;
      });
    }
    this.pending = false;
  }
}
