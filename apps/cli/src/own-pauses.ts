// The load generator's own pauses while it measures: its garbage collections and its event loop's
// stalls. A request due while the generator stood still is sent late, and an answer that arrived is
// read late; the open loop counts latency from when a request was due, so that lateness lands in the
// latency it reports. Printed beside the figures, so that a reader can tell the platform's tail from
// the generator's (at 500 req/s on the 2-core box its own collections took 17–20 ms a second, the
// longest 9–15 ms: the size of a p99 there). The watching itself is @orrery/metrics' watchOwnPauses.
import type { OwnPauses } from '@orrery/metrics';

/** One line for the report. */
export function describeOwnPauses(pauses: OwnPauses): string {
  return (
    `load generator's own pauses (requests due meanwhile are measured late by as much): ` +
    `${pauses.garbageCollections} garbage collections, ${pauses.garbageCollectionMs.toFixed(0)} ms in all, the longest ${pauses.longestGarbageCollectionMs.toFixed(1)} ms; ` +
    `event-loop delay p99 ${pauses.loopDelayP99Ms.toFixed(1)} ms, max ${pauses.loopDelayMaxMs.toFixed(1)} ms`
  );
}
