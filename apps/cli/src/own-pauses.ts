// The load generator's own pauses while it measures: its garbage collections and its event loop's
// stalls. A request due while the generator stood still is sent late, and an answer that arrived is
// read late; the open loop counts latency from when a request was due, so that lateness lands in the
// latency it reports. Printed beside the figures, so that a reader can tell the platform's tail from
// the generator's (at 500 req/s on the 2-core box its own collections took 17–20 ms a second, the
// longest 9–15 ms: the size of a p99 there).
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/** What paused the generator while it was watched. */
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

/** One line for the report. */
export function describeOwnPauses(pauses: OwnPauses): string {
  return (
    `load generator's own pauses (requests due meanwhile are measured late by as much): ` +
    `${pauses.garbageCollections} garbage collections, ${pauses.garbageCollectionMs.toFixed(0)} ms in all, the longest ${pauses.longestGarbageCollectionMs.toFixed(1)} ms; ` +
    `event-loop delay p99 ${pauses.loopDelayP99Ms.toFixed(1)} ms, max ${pauses.loopDelayMaxMs.toFixed(1)} ms`
  );
}
