// A process's own pauses while it is watched: its garbage collections and its event loop's stalls.
// A load generator prints them beside its latencies (a request due while it stood still is measured
// late by as much), a bench beside its CPU figures (collections per call follow what a call allocates).
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

/** What paused this process while it was watched. */
export interface OwnPauses {
  readonly garbageCollections: number;
  readonly garbageCollectionMs: number;
  readonly longestGarbageCollectionMs: number;
  /** How late the event loop ran a timer: p99 and max, ms (sampled every LOOP_DELAY_RESOLUTION_MS). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

/** How often the event loop's delay is sampled, ms. */
export const LOOP_DELAY_RESOLUTION_MS = 10;

/**
 * How late the event loop ran monitorEventLoopDelay's sampling timer, in nanoseconds, from one of its
 * samples at LOOP_DELAY_RESOLUTION_MS. A sample is the time between two runs of the timer, the
 * resolution included (an idle loop records ~10 ms, not ~0); a timer that ran sooner than its
 * interval (the loop's clock is cached per turn) was not late.
 */
export function timerLateness(sampleNanoseconds: number): number {
  return Math.max(0, sampleNanoseconds - LOOP_DELAY_RESOLUTION_MS * 1e6);
}

/** What watchOwnPauses reads of monitorEventLoopDelay's histogram (a test gives its own). */
export type LoopDelayHistogram = Pick<IntervalHistogram, 'enable' | 'disable' | 'count' | 'percentile' | 'max'>;

/**
 * Starts watching the process's own pauses; `stop` ends it and says what they were. `monitor` is
 * node:perf_hooks' monitorEventLoopDelay unless a test gives another.
 */
export function watchOwnPauses(monitor: (options: { resolution: number }) => LoopDelayHistogram = monitorEventLoopDelay): { stop(): OwnPauses } {
  const delay = monitor({ resolution: LOOP_DELAY_RESOLUTION_MS });
  delay.enable();
  let garbageCollections = 0;
  let garbageCollectionMs = 0;
  let longestGarbageCollectionMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      garbageCollections += 1;
      garbageCollectionMs += entry.duration;
      longestGarbageCollectionMs = Math.max(longestGarbageCollectionMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      observer.disconnect();
      delay.disable();
      // The histogram holds nothing when no sample was taken (it then reports huge minima, zero maxima).
      const hasSamples = delay.count > 0;
      return {
        garbageCollections,
        garbageCollectionMs,
        longestGarbageCollectionMs,
        loopDelayP99Ms: hasSamples ? timerLateness(delay.percentile(99)) / 1e6 : 0,
        loopDelayMaxMs: hasSamples ? timerLateness(delay.max) / 1e6 : 0,
      };
    },
  };
}
