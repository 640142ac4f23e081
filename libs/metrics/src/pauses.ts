// A process's own pauses while it is watched: its garbage collections and its event loop's stalls.
// A load generator prints them beside its latencies (a request due while it stood still is measured
// late by as much), a bench beside its CPU figures (collections per call follow what a call allocates).
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/** What paused this process while it was watched. */
export interface OwnPauses {
  readonly garbageCollections: number;
  readonly garbageCollectionMs: number;
  readonly longestGarbageCollectionMs: number;
  /** How late the event loop ran a timer: p99 and max, ms (sampled every 10 ms). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

/** Starts watching the process's own pauses; `stop` ends it and says what they were. */
export function watchOwnPauses(): { stop(): OwnPauses } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
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
      // The histogram is in nanoseconds and holds nothing when no sample was taken (it then reports huge minima, zero maxima).
      const hasSamples = delay.count > 0;
      return {
        garbageCollections,
        garbageCollectionMs,
        longestGarbageCollectionMs,
        loopDelayP99Ms: hasSamples ? delay.percentile(99) / 1e6 : 0,
        loopDelayMaxMs: hasSamples ? delay.max / 1e6 : 0,
      };
    },
  };
}
