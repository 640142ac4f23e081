// The emitter's batching by size and its answer to "too large", against a stand-in for
// ingestion's ZeroMQ endpoint (the real one is in test/emitter.test.ts).
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { randomBytes } from 'node:crypto';
import { ServiceError, status } from '@orrery/grpc';
import { EventType, TrackBatchRequestSchema, TrackBatchResponseSchema } from '@orrery/proto';
import { context, trace } from '@orrery/telemetry';
import { serveZmqRequests, type RunningZmqServer } from '@orrery/zmq';
import { pino } from 'pino';
import { ZmqEventEmitter, type EmitOutcome } from './emitter';

// Real spans, kept in memory, so the trace context of emits reaches the requests.
const spans = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
provider.register();
afterAll(() => provider.shutdown());

interface FakeIngestion {
  readonly endpoint: string;
  /**
   * Each request the handler saw: its size, its event ids and traceparents, in order, and the trace
   * it came in (its serve span's).
   */
  readonly handled: { readonly bytes: number; readonly eventIds: string[]; readonly traceparents: string[]; readonly traceId: string | undefined }[];
}

const servers: RunningZmqServer[] = [];
const emitters: ZmqEventEmitter[] = [];
let endpoints = 0;

/** Serves TrackBatchRequests like ingestion, acknowledging every event; `refuse` may fail a request instead. */
async function fakeIngestion(options: { maxPayloadBytes?: number; refuse?: (request: number) => ServiceError | undefined } = {}): Promise<FakeIngestion> {
  const endpoint = `ipc:///tmp/orrery-emitter-test-${process.pid}-${(endpoints += 1)}`;
  const handled: FakeIngestion['handled'] = [];
  const server = await serveZmqRequests({
    endpoint,
    name: 'ingestion',
    logger: pino({ level: 'silent' }),
    maxPayloadBytes: options.maxPayloadBytes,
    handler: async (payload) => {
      const refusal = options.refuse?.(handled.length + 1);
      const { events, traceparents } = fromBinary(TrackBatchRequestSchema, payload);
      handled.push({ bytes: payload.length, eventIds: events.map((event) => event.eventId), traceparents, traceId: trace.getActiveSpan()?.spanContext().traceId });
      if (refusal) throw refusal;
      return toBinary(TrackBatchResponseSchema, create(TrackBatchResponseSchema, { accepted: events.length }));
    },
  });
  servers.push(server);
  return { endpoint, handled };
}

function emitterFor(ingestion: FakeIngestion, options: Partial<ConstructorParameters<typeof ZmqEventEmitter>[0]> = {}): ZmqEventEmitter {
  const emitter = new ZmqEventEmitter({ endpoint: ingestion.endpoint, backoff: { initialMs: 1, maxMs: 10 }, ...options });
  emitters.push(emitter);
  return emitter;
}

/**
 * An event whose context holds `characters` three-byte characters, 1,000 a value: valid for
 * ingestion up to 16,384 (it counts characters), three times as many bytes in a payload.
 */
function eventWithContext(eventId: string, characters: number) {
  const context = Object.fromEntries(Array.from({ length: Math.ceil(characters / 1_000) }, (_, i) => [`note-${i}`, '€'.repeat(Math.min(1_000, characters - i * 1_000))]));
  return { eventId, userId: 'u-1', itemId: 'i-1', type: EventType.VIEW, context };
}

const settledOutcome = (emitted: Promise<EmitOutcome>) => emitted.then((outcome) => outcome, (error: ServiceError) => ({ code: error.code, message: error.message }));

afterEach(async () => {
  await Promise.all(emitters.splice(0).map((emitter) => emitter.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('ZmqEventEmitter: batch size in bytes', () => {
  it('when queued events hold more bytes than maxBatchBytes, they go in several batches, none larger, each event once', async () => {
    const ingestion = await fakeIngestion();
    const emitter = emitterFor(ingestion, { maxBatchBytes: 20_000 });
    const ids = Array.from({ length: 30 }, (_, i) => `sized-${i}`);
    // ~3 KB each: 30 of them are ~90 KB, though only 30,000 characters.
    const outcomes = await Promise.all(ids.map((id) => emitter.emit(eventWithContext(id, 1_000))));
    expect(outcomes).toEqual(ids.map((eventId) => ({ eventId, accepted: true })));
    expect(ingestion.handled.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...ingestion.handled.map((request) => request.bytes))).toBeLessThanOrEqual(20_000);
    expect(ingestion.handled.flatMap((request) => request.eventIds)).toEqual(ids);
  });

  it('when one event alone is larger than maxBatchBytes, its emit rejects at once naming its id and size, and the others are delivered', async () => {
    const ingestion = await fakeIngestion();
    const emitter = emitterFor(ingestion, { maxBatchBytes: 10_000 });
    const outcomes = await Promise.all([
      settledOutcome(emitter.emit(eventWithContext('small-1', 100))),
      settledOutcome(emitter.emit(eventWithContext('huge', 5_000))),
      settledOutcome(emitter.emit(eventWithContext('small-2', 100))),
    ]);
    expect(outcomes).toEqual([
      { eventId: 'small-1', accepted: true },
      { code: status.INVALID_ARGUMENT, message: expect.stringMatching(/^event huge: 15\d{3} bytes encoded, more than a batch may hold \(maxBatchBytes 10000\)$/) },
      { eventId: 'small-2', accepted: true },
    ]);
    expect(ingestion.handled.flatMap((request) => request.eventIds)).toEqual(['small-1', 'small-2']);
    expect(emitter.stats.pendingEvents).toBe(0);
  });
});

describe('ZmqEventEmitter: a batch ingestion refuses as too large', () => {
  it('when ingestion refuses a batch as too large, the emitter sends its halves, and an event too large alone fails with the server status', async () => {
    const ingestion = await fakeIngestion({ maxPayloadBytes: 8_000 });
    const emitter = emitterFor(ingestion, { maxBatchBytes: 1_000_000 });
    const ids = Array.from({ length: 20 }, (_, i) => `half-${i}`);
    const emitted = [...ids.slice(0, 10), 'too-big', ...ids.slice(10)].map((id) => settledOutcome(emitter.emit(eventWithContext(id, id === 'too-big' ? 3_000 : 300))));
    const outcomes = await Promise.all(emitted);
    expect(outcomes.filter((outcome) => 'accepted' in outcome)).toEqual(ids.map((eventId) => ({ eventId, accepted: true })));
    expect(outcomes[10]).toEqual({ code: status.INVALID_ARGUMENT, message: expect.stringMatching(/^payload of 9\d{3} bytes exceeds the limit of 8000 bytes$/) });
    expect(emitter.stats.splits).toBeGreaterThanOrEqual(3);
    expect(emitter.stats.retries).toBe(0);
    // A refused payload is not handled: each event reached the handler once.
    expect(ingestion.handled.flatMap((request) => request.eventIds)).toEqual(ids);
  });

  it('when a batch of valid events is over ingestion limit (it used to be retried forever), every emit settles and close() returns', async () => {
    const ingestion = await fakeIngestion({ maxPayloadBytes: 64 * 1024 });
    const emitter = emitterFor(ingestion, { maxBatchEvents: 10 });
    const ids = Array.from({ length: 10 }, (_, i) => `former-hang-${i}`);
    // 10 × ~21 KB: one batch of ~210 KB, over the 64 KiB limit; each event alone is valid.
    const outcomes = await Promise.all(ids.map((id) => emitter.emit(eventWithContext(id, 7_000))));
    expect(outcomes).toEqual(ids.map((eventId) => ({ eventId, accepted: true })));
    await emitter.close();
    expect(emitter.stats).toMatchObject({ retries: 0, pendingEvents: 0 });
  });

  it('when ingestion answers RESOURCE_EXHAUSTED (its in-flight budget), the same batch is retried and acknowledged', async () => {
    const ingestion = await fakeIngestion({ refuse: (request) => (request === 1 ? new ServiceError(status.RESOURCE_EXHAUSTED, 'ingestion is at its in-flight budget') : undefined) });
    const emitter = emitterFor(ingestion);
    expect(await emitter.emit(eventWithContext('busy-1', 10))).toEqual({ eventId: 'busy-1', accepted: true });
    expect(emitter.stats).toMatchObject({ retries: 1, splits: 0 });
    expect(ingestion.handled.map((request) => request.eventIds)).toEqual([['busy-1'], ['busy-1']]);
  });
});

describe('ZmqEventEmitter: the trace of each emit', () => {
  /** The context of a sampled span of a new trace, as a service's own span would be. */
  const newTrace = () => trace.setSpanContext(ROOT_CONTEXT, { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED, isRemote: true });
  const traceIdOf = (traceparent: string) => /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(traceparent)?.[1];

  it("when emits of several traces share a batch, it goes in the first one's trace and each other emit's events carry a span of their own, in their trace", async () => {
    spans.reset();
    const ingestion = await fakeIngestion();
    const emitter = emitterFor(ingestion);
    const [first, second, third] = [newTrace(), newTrace(), newTrace()];
    const emitIn = (caller: typeof first, eventId: string) => context.with(caller, () => emitter.emit({ eventId, userId: 'u-1', itemId: 'i-1', type: EventType.VIEW }));
    // Emitted in one turn of the event loop: one batch.
    await Promise.all([
      emitIn(first, 'first-1'),
      emitIn(second, 'second-1'),
      emitIn(third, 'third-1'),
      emitIn(first, 'first-2'),
      emitIn(second, 'second-2'),
      emitter.emit({ eventId: 'untraced', userId: 'u-1', itemId: 'i-1', type: EventType.VIEW }),
    ]);
    expect(ingestion.handled).toHaveLength(1);
    const [request] = ingestion.handled;
    const traceIdOfSpan = (caller: typeof first) => trace.getSpanContext(caller)!.traceId;
    expect(request!.traceId).toBe(traceIdOfSpan(first));
    // The first trace's events and the untraced one go in the request's trace ('').
    expect(request!.traceparents.map((traceparent) => (traceparent === '' ? '' : traceIdOf(traceparent)))).toEqual([
      '',
      traceIdOfSpan(second),
      traceIdOfSpan(third),
      '',
      traceIdOfSpan(second),
      '',
    ]);
    // One span per other emitting span, child of it, whose traceparent its events carry, and to which the request links.
    const merged = spans.getFinishedSpans().filter((span) => span.name === 'ingestion request' && span.attributes['orrery.merged_into.trace_id'] !== undefined);
    expect(merged.map((span) => span.parentSpanContext?.spanId).sort()).toEqual([trace.getSpanContext(second)!.spanId, trace.getSpanContext(third)!.spanId].sort());
    expect(merged.every((span) => span.attributes['orrery.merged_into.trace_id'] === traceIdOfSpan(first))).toBe(true);
    expect(request!.traceparents[1]).toBe(`00-${traceIdOfSpan(second)}-${merged.find((span) => span.spanContext().traceId === traceIdOfSpan(second))!.spanContext().spanId}-01`);
    const sent = spans.getFinishedSpans().find((span) => span.name === 'ingestion request' && span.spanContext().traceId === traceIdOfSpan(first));
    expect(sent!.links.map((link) => link.context.spanId).sort()).toEqual(merged.map((span) => span.spanContext().spanId).sort());
  });

  it('when every event comes from one trace, or from none, the batch carries no traceparents', async () => {
    const ingestion = await fakeIngestion();
    const emitter = emitterFor(ingestion);
    const caller = newTrace();
    await Promise.all(['one-1', 'one-2'].map((eventId) => context.with(caller, () => emitter.emit({ eventId, userId: 'u-1', itemId: 'i-1', type: EventType.VIEW }))));
    await Promise.all(['none-1', 'none-2'].map((eventId) => emitter.emit({ eventId, userId: 'u-1', itemId: 'i-1', type: EventType.VIEW })));
    expect(ingestion.handled.map((request) => request.traceparents)).toEqual([[], []]);
  });

  it("when events of many traces are batched, their traceparents count in maxBatchBytes: no payload is larger", async () => {
    const ingestion = await fakeIngestion();
    // ~45 bytes an event, ~100 with its traceparent.
    const emitter = emitterFor(ingestion, { maxBatchBytes: 1_000 });
    const ids = Array.from({ length: 40 }, (_, i) => `traced-${i}`);
    await Promise.all(ids.map((eventId) => context.with(newTrace(), () => emitter.emit({ eventId, userId: 'u-1', itemId: 'i-1', type: EventType.VIEW }))));
    expect(ingestion.handled.flatMap((request) => request.eventIds)).toEqual(ids);
    expect(Math.max(...ingestion.handled.map((request) => request.bytes))).toBeLessThanOrEqual(1_000);
  });
});
