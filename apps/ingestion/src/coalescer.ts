import { groupCommit, resolveInSlices, type QueuedRequest } from '@orrery/batching';
import type { Event } from '@orrery/proto';
import { context, startMergedCallSpans, type Context } from '@orrery/telemetry';
import { isPayloadTooLarge } from '@orrery/zmq';
import type { CommandGateway, MergedCalls } from './command-gateway';

/** How appends are grouped into commands. */
export interface CoalescingOptions {
  /** Commands in flight at once; requests arriving while all are busy wait and are merged. */
  readonly maxInFlight: number;
  /** Events of one merged command (a single larger request still goes alone). */
  readonly maxEvents: number;
}

/** One caller's append, with the context (its trace) it was made in and the traces of other calls its events carry. */
interface Append {
  readonly events: readonly Event[];
  readonly timeoutMs: number;
  readonly caller: Context;
  readonly merged: MergedCalls | undefined;
}

/**
 * The gateway with appendEvents grouped like a group commit: while `maxInFlight` commands are in
 * flight, further requests queue; when one finishes, the queued ones (up to maxEvents) go as ONE
 * command, and each caller gets its own slice of the duplicate flags. An idle gateway sends a
 * request at once, so coalescing adds no latency; under load it turns many small requests
 * (Track, small batches) into few transactions. A failed command fails every request in it
 * (nothing of it committed; each caller retries with its ids), except one command refused as too
 * large: then each of its requests goes alone, in its caller's context.
 *
 * A merged command travels in its first caller's trace (group commit runs it there). Each other
 * caller gets a `command request` span of its own in its own trace, lasting as long as the merged
 * command, and its events go to command with that span's traceparent, so they reach the outbox,
 * Kafka and the projector in the trace of the call that sent them; the merged command's span links
 * to each of those spans, and each of them names the trace it went in (`orrery.merged_into.trace_id`).
 * An event that came with a traceparent of its own (a client's batch of several traces) keeps it.
 */
export function withCoalescedAppends(gateway: CommandGateway, options: CoalescingOptions): CommandGateway {
  const append = groupCommit<Append, boolean[]>(
    async (group) => {
      if (group.length === 1) {
        const [alone] = group as [QueuedRequest<Append, boolean[]>];
        alone.resolve(await gateway.appendEvents(alone.request.events, alone.request.timeoutMs, alone.request.merged));
        return;
      }
      const events = group.flatMap((queued) => queued.request.events);
      const merged = mergedCallSpans(group, events.length);
      let duplicates: boolean[];
      try {
        duplicates = await gateway.appendEvents(events, Math.min(...group.map((queued) => queued.request.timeoutMs)), merged.calls);
      } catch (error) {
        merged.end(error);
        if (!isPayloadTooLarge(error)) throw error;
        // Merging is ours, not the callers': a merged command over command's payload limit must not
        // refuse requests that fit alone (refused, nothing of it was handled), so each goes alone.
        await Promise.all(
          group.map((queued) =>
            context
              .with(queued.request.caller, () => gateway.appendEvents(queued.request.events, queued.request.timeoutMs, queued.request.merged))
              .then(queued.resolve, queued.reject),
          ),
        );
        return;
      }
      merged.end();
      resolveInSlices(group, duplicates, (request) => request.events.length);
    },
    { maxInFlight: options.maxInFlight, maxSize: options.maxEvents, sizeOf: (request) => request.events.length },
  );
  return { ...gateway, appendEvents: (events, timeoutMs, merged) => append({ events, timeoutMs, caller: context.active(), merged }) };
}

/**
 * What a merged command carries for its callers (startMergedCallSpans): a `command request` span for
 * each caller but the first, the traceparent of each event (its caller's span, '' for the first
 * caller's events; or the one it came with, when a client batched it from another trace) and a link
 * to each of those spans and to those the callers came with.
 */
function mergedCallSpans(group: readonly QueuedRequest<Append, boolean[]>[], eventCount: number): { readonly calls: MergedCalls; end(error?: unknown): void } {
  const spans = startMergedCallSpans('command request', group.map((queued) => queued.request.caller), { 'rpc.system': 'zeromq', 'orrery.merged.events': eventCount });
  const traceparents = group.flatMap(({ request }, index) => request.events.map((_, event) => request.merged?.traceparents[event] || spans.traceparents[index]!));
  const links = [...spans.links, ...group.flatMap(({ request }) => request.merged?.links ?? [])];
  return { calls: { traceparents, links }, end: spans.end };
}
