// The schedule of the benches' open loops (a call or batch sent when due, whatever is still in flight, so
// that queueing shows in the latency): shared by the cli's benches and the projector's.

/**
 * The batch sizes of an open loop that sends `rate` events a second in `ticks` ticks of 1/`ticksPerSecond`
 * s: the rate exactly, each tick the events due by its end less those sent (250 events/s at 100 ticks a
 * second: 2, 3, 2, 3, …; under one event a tick, some ticks send nothing, which are 0 here).
 */
export function openLoopBatchSizes(rate: number, ticksPerSecond: number, ticks: number): number[] {
  const sentBy = (tick: number): number => Math.floor((tick * rate) / ticksPerSecond);
  return Array.from({ length: ticks }, (_, tick) => sentBy(tick + 1) - sentBy(tick));
}

/** Monotonic milliseconds, the clock the open loops keep their schedule by. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Resolves at `dueMs` (nowMs): one timer per due time, which fires up to ~1 ms late without moving the next one. */
export async function untilDue(dueMs: number): Promise<void> {
  while (nowMs() < dueMs) await new Promise((resolve) => setTimeout(resolve, dueMs - nowMs()));
}

/**
 * The rate an open loop reached: `sent` calls (or events) over the time their sending took, `lastSentMs`
 * after the start, and no less than the `scheduledMs` they were due over. A loop on schedule sends its
 * last one interval before the end and reads the asked rate exactly, however long its last answers take
 * (a slow answer shows in the latency, not as a rate not reached); a generator that fell behind sends
 * its last late and reads less.
 */
export function sentPerSecond(sent: number, lastSentMs: number, scheduledMs: number): number {
  const sendingMs = Math.max(lastSentMs, scheduledMs);
  return sendingMs > 0 ? (sent * 1000) / sendingMs : 0;
}

/** The clock an open loop keeps its schedule by: monotonic milliseconds, and a wait until one of them. */
export interface ScheduleClock {
  now(): number;
  until(dueMs: number): Promise<void>;
}

const MONOTONIC_CLOCK: ScheduleClock = { now: nowMs, until: untilDue };

/** What an open loop sent: how many, when its last batch left (ms after the start), and over how long they were due. */
export interface SentOnSchedule {
  readonly sent: number;
  readonly lastSentMs: number;
  readonly scheduledMs: number;
}

/**
 * Sends `rate` events a second for `seconds` in `ticksPerSecond` batches a second (openLoopBatchSizes),
 * batch k due k ticks after the start: each due time counts from the start, not from the send before,
 * so a timer that fires late delays its own batch only and the loop does not drift below its rate.
 * `send` gets each non-empty batch's size and must not wait for its answer.
 */
export async function sendOnSchedule(rate: number, ticksPerSecond: number, seconds: number, send: (size: number) => void, clock: ScheduleClock = MONOTONIC_CLOCK): Promise<SentOnSchedule> {
  const ticks = Math.round(seconds * ticksPerSecond);
  const sizes = openLoopBatchSizes(rate, ticksPerSecond, ticks);
  const startedMs = clock.now();
  let sent = 0;
  let lastSentMs = 0;
  for (let tick = 0; tick < ticks; tick += 1) {
    const size = sizes[tick]!;
    if (size === 0) continue;
    await clock.until(startedMs + (tick * 1000) / ticksPerSecond);
    send(size);
    sent += size;
    lastSentMs = clock.now() - startedMs;
  }
  return { sent, lastSentMs, scheduledMs: (ticks * 1000) / ticksPerSecond };
}
