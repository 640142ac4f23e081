import { groupCommit, resolveInSlices } from '@orrery/batching';
import type { Event } from '@orrery/proto';
import { isPayloadTooLarge } from '@orrery/zmq';
import type { CommandGateway } from './command-gateway';

/** How appends are grouped into commands. */
export interface CoalescingOptions {
  /** Commands in flight at once; requests arriving while all are busy wait and are merged. */
  readonly maxInFlight: number;
  /** Events of one merged command (a single larger request still goes alone). */
  readonly maxEvents: number;
}

/**
 * The gateway with appendEvents grouped like a group commit: while `maxInFlight` commands are in
 * flight, further requests queue; when one finishes, the queued ones (up to maxEvents) go as ONE
 * command, and each caller gets its own slice of the duplicate flags. An idle gateway sends a
 * request at once, so coalescing adds no latency; under load it turns many small requests
 * (Track, small batches) into few transactions. A failed command fails every request in it
 * (nothing of it committed; each caller retries with its ids), except one command refused as too
 * large: then each of its requests goes alone.
 */
export function withCoalescedAppends(gateway: CommandGateway, options: CoalescingOptions): CommandGateway {
  const append = groupCommit<{ readonly events: readonly Event[]; readonly timeoutMs: number }, boolean[]>(
    async (group) => {
      const events = group.length === 1 ? group[0]!.request.events : group.flatMap((queued) => queued.request.events);
      let duplicates: boolean[];
      try {
        duplicates = await gateway.appendEvents(events, Math.min(...group.map((queued) => queued.request.timeoutMs)));
      } catch (error) {
        if (group.length === 1 || !isPayloadTooLarge(error)) throw error;
        // Merging is ours, not the callers': a merged command over command's payload limit must not
        // refuse requests that fit alone (refused, nothing of it was handled), so each goes alone.
        await Promise.all(group.map((queued) => gateway.appendEvents(queued.request.events, queued.request.timeoutMs).then(queued.resolve, queued.reject)));
        return;
      }
      resolveInSlices(group, duplicates, (request) => request.events.length);
    },
    { maxInFlight: options.maxInFlight, maxSize: options.maxEvents, sizeOf: (request) => request.events.length },
  );
  return { ...gateway, appendEvents: (events, timeoutMs) => append({ events, timeoutMs }) };
}
