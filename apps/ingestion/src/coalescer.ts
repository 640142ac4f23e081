import type { Event } from '@orrery/proto';
import type { CommandGateway } from './command-gateway';

interface Waiting {
  readonly events: readonly Event[];
  readonly timeoutMs: number;
  readonly resolve: (duplicates: boolean[]) => void;
  readonly reject: (error: unknown) => void;
}

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
 * (nothing of it committed; each caller retries with its ids).
 */
export function withCoalescedAppends(gateway: CommandGateway, options: CoalescingOptions): CommandGateway {
  const queue: Waiting[] = [];
  let inFlight = 0;

  const dispatch = (): void => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const group: Waiting[] = [queue.shift()!];
      let size = group[0]!.events.length;
      while (queue.length > 0 && size + queue[0]!.events.length <= options.maxEvents) {
        const next = queue.shift()!;
        group.push(next);
        size += next.events.length;
      }
      inFlight += 1;
      const events = group.length === 1 ? group[0]!.events : group.flatMap((waiting) => waiting.events);
      const timeoutMs = Math.min(...group.map((waiting) => waiting.timeoutMs));
      gateway
        .appendEvents(events, timeoutMs)
        .then(
          (duplicates) => {
            let offset = 0;
            for (const waiting of group) {
              waiting.resolve(duplicates.slice(offset, offset + waiting.events.length));
              offset += waiting.events.length;
            }
          },
          (error: unknown) => {
            for (const waiting of group) waiting.reject(error);
          },
        )
        .finally(() => {
          inFlight -= 1;
          dispatch();
        });
    }
  };

  return {
    ...gateway,
    appendEvents: (events, timeoutMs) =>
      new Promise<boolean[]>((resolve, reject) => {
        queue.push({ events, timeoutMs, resolve, reject });
        dispatch();
      }),
  };
}
