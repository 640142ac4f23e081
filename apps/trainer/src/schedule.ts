// The wait between two scheduled training runs.

/**
 * The longest delay setTimeout honours (2^31 − 1 ms, about 24.8 days): Node fires a longer one after
 * 1 ms (with a TimeoutOverflowWarning), so a monthly schedule would retrain back to back.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A wait in progress: `done` resolves when the time is up or once `wake()` was called. */
export interface Pause {
  readonly done: Promise<void>;
  wake(): void;
}

/** Waits `ms` milliseconds, however many (in timer-sized steps), or until woken. */
export function pause(ms: number): Pause {
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    const until = Date.now() + ms;
    finish = () => {
      clearTimeout(timer);
      resolve();
    };
    const step = (): void => {
      const left = until - Date.now();
      if (left <= 0) finish();
      else timer = setTimeout(step, Math.min(left, MAX_TIMER_DELAY_MS));
    };
    step();
  });
  return { done, wake: () => finish() };
}
