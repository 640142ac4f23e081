import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { randomUUID } from 'node:crypto';
import { backoffDelay, type BackoffPolicy } from '@orrery/config';
import { ServiceError, status, toServiceError } from '@orrery/grpc';
import { EventSchema, TrackBatchRequestSchema, TrackBatchResponseSchema, type Event } from '@orrery/proto';
import { context, startMergedCallSpans, trace, type Context, type Link } from '@orrery/telemetry';
import { isPayloadTooLarge, ZmqRequestClient } from '@orrery/zmq';

/** An event as callers write it (every field optional, as in `create(EventSchema, …)`). */
export type EventInit = Omit<MessageInitShape<typeof EventSchema>, '$typeName'>;

/** What became of one emitted event: stored (or already stored: a retry), or refused with the reason. */
export type EmitOutcome = { readonly eventId: string; readonly accepted: true } | { readonly eventId: string; readonly accepted: false; readonly reason: string };

export interface EmitterOptions {
  /** Ingestion's public ZeroMQ ROUTER (ORRERY_INGEST_ZMQ_ENDPOINT). */
  readonly endpoint: string;
  /** Events per TrackBatchRequest (at most 10,000, ingestion's limit). Default 1000. */
  readonly maxBatchEvents?: number;
  /**
   * Encoded bytes of one TrackBatchRequest at most; keep it at or under ingestion's
   * ORRERY_INGEST_MAX_MESSAGE_BYTES (16 MiB). An event larger than this alone is refused by emit().
   * Default 4 MiB.
   */
  readonly maxBatchBytes?: number;
  /** How long a partly filled batch waits for more events before it is sent, in ms. Default 5. */
  readonly lingerMs?: number;
  /** Batches awaiting their ack at once. Default 4. */
  readonly maxInFlightBatches?: number;
  /** Events queued or awaiting an ack above which emit() waits for room (backpressure). Default 50,000. */
  readonly maxPendingEvents?: number;
  /** Deadline of one attempt of a batch, in ms. Default 10,000. */
  readonly requestTimeoutMs?: number;
  /** Retry spacing of a batch that got no ack, each wait drawn at random below it (backoffDelay). Default 50 ms doubling to 5 s. */
  readonly backoff?: BackoffPolicy;
  /** Attempts of a batch before its events fail (Infinity: retry until closed). Default Infinity. */
  readonly maxAttempts?: number;
}

/** Counters of an emitter, for logs and tests. */
export interface EmitterStats {
  readonly batchesSent: number;
  readonly retries: number;
  /** Batches split in two because ingestion refused them as too large. */
  readonly splits: number;
  readonly pendingEvents: number;
}

/** The default of EmitterOptions.maxBatchBytes: a quarter of ingestion's default limit. */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

interface Pending {
  readonly event: Event;
  /** The event as a one-event TrackBatchRequest (see deliver). */
  readonly encoded: Uint8Array;
  /** What it adds to a batch's payload at most: `encoded` and its entry of the batch's traceparents. */
  readonly bytes: number;
  /** The context emit was called in, and its span (`<trace id>-<span id>`; undefined outside any trace). */
  readonly caller: Context;
  readonly callerSpan: string | undefined;
  readonly resolve: (outcome: EmitOutcome) => void;
  readonly reject: (error: Error) => void;
}

// Transient: the batch may or may not have been committed, and resending it with the same event
// ids is safe (ingestion stores each id once). A payload too large is not among them: it is split
// (see deliver), since resending it cannot succeed.
const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED, status.ABORTED]);

/** Encoded bytes of one entry of TrackBatchRequest.traceparents: a W3C traceparent (55 characters, version 00), or an empty one. */
const TRACEPARENT_ENTRY_BYTES = traceparentsBytes([`00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`]);
const EMPTY_TRACEPARENT_ENTRY_BYTES = traceparentsBytes(['']);

function traceparentsBytes(traceparents: string[]): number {
  return toBinary(TrackBatchRequestSchema, create(TrackBatchRequestSchema, { traceparents })).length;
}

/**
 * Emits interaction events to ingestion over ZeroMQ: batches them (by count and encoded size, or after lingerMs),
 * waits for each batch's ack (sent only after command committed it), and retries a batch that got
 * no ack with backoff. Each event gets its event_id (and occurred_at) when emitted, so a retried
 * batch carries the same ids and is deduplicated by the event store instead of doubled. Each event
 * stays in the trace it was emitted in (see deliverInEmittersTraces).
 */
export class ZmqEventEmitter {
  private readonly client: ZmqRequestClient;
  private readonly maxBatchEvents: number;
  private readonly maxBatchBytes: number;
  private readonly lingerMs: number;
  private readonly maxInFlightBatches: number;
  private readonly maxPendingEvents: number;
  private readonly requestTimeoutMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly maxAttempts: number;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private inFlightBatches = 0;
  private pendingEvents = 0;
  private readonly roomWaiters: (() => void)[] = [];
  private readonly sending = new Set<Promise<void>>();
  private closed = false;
  private counters = { batchesSent: 0, retries: 0, splits: 0 };

  constructor(options: EmitterOptions) {
    this.maxBatchEvents = Math.min(10_000, Math.max(1, options.maxBatchEvents ?? 1_000));
    this.maxBatchBytes = Math.max(1, options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    this.lingerMs = options.lingerMs ?? 5;
    this.maxInFlightBatches = Math.max(1, options.maxInFlightBatches ?? 4);
    this.maxPendingEvents = Math.max(this.maxBatchEvents, options.maxPendingEvents ?? 50_000);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.backoff = options.backoff ?? { initialMs: 50, maxMs: 5_000 };
    this.maxAttempts = options.maxAttempts ?? Infinity;
    this.client = new ZmqRequestClient({ endpoint: options.endpoint, name: 'ingestion', timeoutMs: this.requestTimeoutMs });
  }

  /** Counters so far. */
  get stats(): EmitterStats {
    return { ...this.counters, pendingEvents: this.pendingEvents };
  }

  /**
   * Queues one event and resolves once ingestion acknowledged it (stored, or refused with the
   * reason). Waits first while maxPendingEvents are pending. Rejects only when the emitter is
   * closed, the event alone is larger than maxBatchBytes (INVALID_ARGUMENT naming its id and size),
   * or its batch ran out of attempts / got a non-retryable status.
   */
  async emit(init: EventInit): Promise<EmitOutcome> {
    const caller = context.active();
    while (this.pendingEvents >= this.maxPendingEvents && !this.closed) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    if (this.closed) throw new ServiceError(status.CANCELLED, 'emitter is closed');
    const event = create(EventSchema, { ...init, eventId: init.eventId || randomUUID(), occurredAt: init.occurredAt ?? timestampNow() });
    const encoded = toBinary(TrackBatchRequestSchema, create(TrackBatchRequestSchema, { events: [event] }));
    const span = trace.getSpanContext(caller);
    const callerSpan = span && trace.isSpanContextValid(span) ? `${span.traceId}-${span.spanId}` : undefined;
    const bytes = encoded.length + (callerSpan === undefined ? EMPTY_TRACEPARENT_ENTRY_BYTES : TRACEPARENT_ENTRY_BYTES);
    if (bytes > this.maxBatchBytes) {
      throw new ServiceError(status.INVALID_ARGUMENT, `event ${event.eventId}: ${bytes} bytes encoded, more than a batch may hold (maxBatchBytes ${this.maxBatchBytes})`);
    }
    this.pendingEvents += 1;
    this.queuedBytes += bytes;
    const outcome = new Promise<EmitOutcome>((resolve, reject) => this.queue.push({ event, encoded, bytes, caller, callerSpan, resolve, reject }));
    this.schedule();
    return outcome;
  }

  /** Sends whatever is queued now and resolves once every emitted event is acknowledged or failed. */
  async flush(): Promise<void> {
    this.sendQueued(true);
    while (this.sending.size > 0 || this.queue.length > 0) {
      await Promise.allSettled([...this.sending]);
      this.sendQueued(true);
    }
  }

  /** Flushes, then closes the socket; later emits are refused. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    for (const wake of this.roomWaiters.splice(0)) wake();
    await this.client.close();
  }

  private schedule(): void {
    if (this.fullBatchQueued()) this.sendQueued(false);
    else if (!this.lingerTimer) this.lingerTimer = setTimeout(() => this.sendQueued(true), this.lingerMs);
  }

  /** Starts batches while there is room in flight; `partial` also sends a batch that is not full. */
  private sendQueued(partial: boolean): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    while (this.inFlightBatches < this.maxInFlightBatches && (this.fullBatchQueued() || (partial && this.queue.length > 0))) {
      const batch = this.takeBatch();
      this.inFlightBatches += 1;
      const sent = this.deliverInEmittersTraces(batch).finally(() => {
        this.inFlightBatches -= 1;
        this.sending.delete(sent);
        this.pendingEvents -= batch.length;
        for (const wake of this.roomWaiters.splice(0)) wake();
        // Room in flight again: full batches go at once, a partial one after its linger.
        if (this.queue.length > 0) this.schedule();
      });
      this.sending.add(sent);
    }
    if (this.queue.length > 0 && !this.lingerTimer && this.inFlightBatches < this.maxInFlightBatches) this.schedule();
  }

  /** Whether the queue holds a batch that cannot grow: maxBatchEvents events, or more bytes than one batch may hold. */
  private fullBatchQueued(): boolean {
    return this.queue.length >= this.maxBatchEvents || this.queuedBytes >= this.maxBatchBytes;
  }

  /** Takes the next batch off the queue: the oldest events, up to maxBatchEvents and maxBatchBytes (at least one: emit refused any event larger alone). */
  private takeBatch(): Pending[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.maxBatchEvents && (count === 0 || bytes + this.queue[count]!.bytes <= this.maxBatchBytes)) {
      bytes += this.queue[count]!.bytes;
      count += 1;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, count);
  }

  /**
   * Delivers a batch in the trace of its first event emitted in one: the request span is a child of
   * that emit's span. The events of each other emit's span get an `ingestion request` span of their
   * own, child of that span and lasting until the batch is answered (startMergedCallSpans, as
   * ingestion gives the calls it merges into one command), and go with its traceparent
   * (TrackBatchRequest.traceparents), so they reach command, Kafka and the projector in the trace they
   * were emitted in; the request span links to those spans. Events emitted outside any trace go in
   * the batch's.
   */
  private async deliverInEmittersTraces(batch: Pending[]): Promise<void> {
    const own = batch.find((entry) => entry.callerSpan !== undefined) ?? batch[0]!;
    const callers: Context[] = [own.caller];
    const callerIndexes = new Map<string, number>();
    const callerOfEvent = batch.map(({ caller, callerSpan }) => {
      if (callerSpan === undefined || callerSpan === own.callerSpan) return 0;
      let index = callerIndexes.get(callerSpan);
      if (index === undefined) {
        index = callers.push(caller) - 1;
        callerIndexes.set(callerSpan, index);
      }
      return index;
    });
    const spans = startMergedCallSpans('ingestion request', callers, { 'rpc.system': 'zeromq', 'orrery.merged.events': batch.length });
    const traceparents = callerOfEvent.map((index) => spans.traceparents[index]!);
    const failure = await context.with(own.caller, () => this.deliver(batch, traceparents, spans.links));
    spans.end(failure);
  }

  /**
   * Sends one batch, with the traceparent of each event ('' for the request's own trace), until it is
   * acknowledged, retrying transient failures with the same payload (same ids). When ingestion
   * refuses it as too large (its limit is below maxBatchBytes), sends its halves instead, down to
   * single events, which then fail with that status. Resolves with the failure of its events, if they failed.
   */
  private async deliver(batch: Pending[], traceparents: readonly string[], links: readonly Link[]): Promise<ServiceError | undefined> {
    // A repeated field may be encoded in pieces one after another, so a TrackBatchRequest of these
    // events is their one-event requests concatenated (each event is encoded once, at emit), then
    // their traceparents, when any event has one.
    const pieces = batch.map((entry) => entry.encoded);
    if (traceparents.some(Boolean)) pieces.push(toBinary(TrackBatchRequestSchema, create(TrackBatchRequestSchema, { traceparents: [...traceparents] })));
    const payload = Buffer.concat(pieces);
    for (let attempt = 1; ; attempt += 1) {
      try {
        this.counters.batchesSent += 1;
        const reply = fromBinary(TrackBatchResponseSchema, await this.client.request(payload, this.requestTimeoutMs, links));
        const refused = new Map(reply.rejected.map((rejection) => [rejection.index, rejection.reason]));
        batch.forEach((entry, index) => {
          const reason = refused.get(index);
          entry.resolve(reason === undefined ? { eventId: entry.event.eventId, accepted: true } : { eventId: entry.event.eventId, accepted: false, reason });
        });
        return undefined;
      } catch (error) {
        const failure = toServiceError(error);
        if (isPayloadTooLarge(failure) && batch.length > 1) {
          // Nothing of it was handled. The halves go one after the other, in this batch's in-flight slot.
          this.counters.splits += 1;
          const half = Math.ceil(batch.length / 2);
          const firstHalfFailure = await this.deliver(batch.slice(0, half), traceparents.slice(0, half), links);
          const secondHalfFailure = await this.deliver(batch.slice(half), traceparents.slice(half), links);
          return firstHalfFailure ?? secondHalfFailure;
        }
        if (!RETRYABLE.has(failure.code) || attempt >= this.maxAttempts || this.closed) {
          for (const entry of batch) entry.reject(failure);
          return failure;
        }
        this.counters.retries += 1;
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, this.backoff)));
      }
    }
  }
}
