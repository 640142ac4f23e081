// Background write load for the serving benchmark: random views and clicks of the seeded users and
// items, sent through TrackBatch at a fixed rate (open loop: a batch is sent on schedule whether or
// not the earlier ones were acknowledged), so Recommend and freshness can be measured while the
// whole write side (ingestion, command, relay, Kafka, projector, Redis) is busy on the same cores.
import { EventType } from '@orrery/proto';

/** How often the generator sends the events that came due (a batch every 10 ms: 10 events at 1,000/s). */
export const WRITE_LOAD_TICK_MS = 10;

/** How many events are due after `elapsedMs` at `ratePerSecond`, beyond the `sent` ones already sent. */
export function eventsDue(elapsedMs: number, ratePerSecond: number, sent: number): number {
  return Math.max(0, Math.floor((elapsedMs * ratePerSecond) / 1_000) - sent);
}

/** The client call the generator needs (TrackBatch of the ingestion API). */
export interface EventSink {
  trackBatch(request: { events: { userId: string; itemId: string; type: EventType }[] }): Promise<{ accepted: number }>;
}

/** What a write load did, when stopped. */
export interface WriteLoadResult {
  readonly sent: number;
  readonly acknowledged: number;
  readonly failedBatches: number;
  /** The first failure's message, if any batch failed. */
  readonly firstError: string | undefined;
  readonly seconds: number;
}

/** One line saying what a write load asked for `askedPerSecond` did. */
export function describeWriteLoad(result: WriteLoadResult, askedPerSecond: number): string {
  const failures = result.failedBatches > 0 ? `; ${result.failedBatches} batches failed, first: ${result.firstError}` : '';
  return `write load: ${result.acknowledged} of ${result.sent} events acknowledged in ${result.seconds.toFixed(1)} s (${(result.acknowledged / result.seconds).toFixed(0)}/s; asked for ${askedPerSecond}/s)${failures}`;
}

/** A running write load: stop() sends nothing more and waits for the batches in flight. */
export interface WriteLoad {
  stop(): Promise<WriteLoadResult>;
}

/**
 * Starts sending `ratePerSecond` events (VIEW, one in four a CLICK) of random `users` × `items`
 * through `sink`, every WRITE_LOAD_TICK_MS, until stopped; `onFirstFailure` hears the first failed
 * batch's message when it fails (the load goes on: a platform may come back), not only at the end.
 */
export function startWriteLoad(
  sink: EventSink,
  users: readonly string[],
  items: readonly string[],
  ratePerSecond: number,
  random: () => number = Math.random,
  onFirstFailure: (message: string) => void = () => undefined,
): WriteLoad {
  if (users.length === 0 || items.length === 0) throw new Error('a write load needs at least one user and one item');
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const startedMs = performance.now();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let acknowledged = 0;
  let failedBatches = 0;
  let firstError: string | undefined;
  const timer = setInterval(() => {
    const due = eventsDue(performance.now() - startedMs, ratePerSecond, sent);
    if (due === 0) return;
    const events = Array.from({ length: due }, () => ({ userId: pick(users), itemId: pick(items), type: random() < 0.25 ? EventType.CLICK : EventType.VIEW }));
    sent += due;
    const batch = sink.trackBatch({ events }).then(
      (reply) => void (acknowledged += reply.accepted),
      (error: unknown) => {
        failedBatches += 1;
        if (firstError !== undefined) return;
        firstError = error instanceof Error ? error.message : String(error);
        onFirstFailure(firstError);
      },
    );
    inFlight.add(batch);
    void batch.finally(() => inFlight.delete(batch));
  }, WRITE_LOAD_TICK_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      const seconds = (performance.now() - startedMs) / 1_000;
      await Promise.all(inFlight);
      return { sent, acknowledged, failedBatches, firstError, seconds };
    },
  };
}
