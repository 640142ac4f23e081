// The client library against a real ingestion + command on the local engines.
import { ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { randomBytes } from 'node:crypto';
import { EventType } from '@orrery/proto';
import { context, trace } from '@orrery/telemetry';
import { eventually } from '@orrery/testing';
import { startCommand } from '../../../apps/command/src/service';
import { eventIdOf } from '../../../apps/command/test/kafka-collector';
import { silentLogger, startWriteSide, type WriteSide } from '../../../apps/ingestion/test/harness';
import { createCatalogClient, createIngestClient, status, ZmqEventEmitter } from '../src/index';

// Real spans (kept in memory), so trace context flows from emits through ingestion and command to Kafka.
const spans = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
provider.register();

describe('client library', () => {
  let side: WriteSide;
  beforeAll(async () => {
    // A short command deadline, so ingestion answers UNAVAILABLE quickly while command is down.
    side = await startWriteSide({ commandTimeoutMs: 300 });
  });
  afterAll(async () => {
    await side?.stop();
    await provider.shutdown();
  });

  const published = (prefix: string) => side.topic.messages.filter((message) => eventIdOf(message).startsWith(prefix));

  it('when many events are emitted, they go in batches and each is acknowledged and stored once', async () => {
    const emitter = new ZmqEventEmitter({ endpoint: side.config.ingestZmqEndpoint, maxBatchEvents: 500 });
    try {
      const outcomes = await Promise.all(Array.from({ length: 5_000 }, (_, i) => emitter.emit({ eventId: `many-${i}`, userId: `u-${i % 50}`, itemId: `i-${i % 30}`, type: EventType.VIEW })));
      expect(outcomes.every((outcome) => outcome.accepted)).toBe(true);
      // First attempts only: under load ingestion may answer UNAVAILABLE (300 ms command deadline here) and a batch is retried.
      expect(emitter.stats.batchesSent - emitter.stats.retries).toBeLessThanOrEqual(20);
      expect(await side.count('events', "event_id LIKE 'many-%'")).toBe(5_000);
    } finally {
      await emitter.close();
    }
  });

  it('when emits of different traces go in one batch, each event reaches Kafka in the trace of its emit', async () => {
    const emitter = new ZmqEventEmitter({ endpoint: side.config.ingestZmqEndpoint });
    try {
      const emits = Array.from({ length: 24 }, (_, index) => ({ eventId: `traced-${index}`, traceId: randomBytes(16).toString('hex') }));
      // Emitted in one turn of the event loop, each in its own trace (a sampled span of the emitting service): one batch.
      const outcomes = await Promise.all(
        emits.map(({ eventId, traceId }) => {
          const caller = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED, isRemote: true });
          return context.with(caller, () => emitter.emit({ eventId, userId: `user-${eventId}`, itemId: 'i-1', type: EventType.CLICK }));
        }),
      );
      expect(outcomes.every((outcome) => outcome.accepted)).toBe(true);
      expect(emitter.stats.batchesSent - emitter.stats.retries).toBe(1);
      const message = (eventId: string) => side.topic.messages.find((published) => eventIdOf(published) === eventId);
      await eventually(async () => emits.every(({ eventId }) => message(eventId) !== undefined) || undefined, { what: 'the emitted events on Kafka' });
      // The publish span whose traceparent each message carries is in its emit's trace, not in the trace of the batch's first emit.
      const traceOfMessage = emits.map(({ eventId }) => /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(message(eventId)!.traceparent ?? '')?.[1]);
      expect(traceOfMessage).toEqual(emits.map(({ traceId }) => traceId));
    } finally {
      await emitter.close();
    }
  });

  it('when an emitted event is invalid, its outcome is the refusal reason and the others are stored', async () => {
    const emitter = new ZmqEventEmitter({ endpoint: side.config.ingestZmqEndpoint });
    try {
      const [good, bad] = await Promise.all([
        emitter.emit({ userId: 'u-1', itemId: 'i-1', type: EventType.CLICK }),
        emitter.emit({ userId: 'u-1', itemId: '', type: EventType.CLICK }),
      ]);
      expect(good).toMatchObject({ accepted: true, eventId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      expect(bad).toEqual({ eventId: expect.any(String), accepted: false, reason: 'events[1].item_id: must not be empty' });
      expect(await side.count('events', 'event_id = $1', [good.eventId])).toBe(1);
      expect(await side.count('events', 'event_id = $1', [bad.eventId])).toBe(0);
    } finally {
      await emitter.close();
    }
  });

  it('when command stops mid-stream and comes back, the emitter retries with the same ids: every event is stored and published exactly once', async () => {
    const emitter = new ZmqEventEmitter({ endpoint: side.config.ingestZmqEndpoint, maxBatchEvents: 100, backoff: { initialMs: 20, maxMs: 200 }, requestTimeoutMs: 2_000 });
    try {
      const emit = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, k) => emitter.emit({ eventId: `fault-${from + k}`, userId: `fu-${(from + k) % 13}`, itemId: 'i-1', type: EventType.CLICK }));
      const before = emit(0, 500);
      await Promise.all(before);
      await side.command.close();
      const during = emit(500, 1_000);
      await eventually(async () => emitter.stats.retries, { accept: (retries) => retries >= 3, what: 'the emitter retrying while command is down' });
      side.command = await startCommand(side.config, silentLogger);
      const after = emit(1_000, 1_500);
      const outcomes = await Promise.all([...before, ...during, ...after]);
      expect(outcomes.filter((outcome) => !outcome.accepted)).toEqual([]);
      // Ingestion's requests queued while command was down are delivered when it returns, beside
      // the emitter's retries of the same batches: every copy after the first is a duplicate.
      expect(await side.count('events', "event_id LIKE 'fault-%'")).toBe(1_500);
      await eventually(async () => new Set(published('fault-').map(eventIdOf)).size, { accept: (distinct) => distinct === 1_500, what: 'all 1500 events on Kafka' });
      expect(published('fault-')).toHaveLength(1_500);
    } finally {
      await emitter.close();
    }
  });

  it('when a batch runs out of attempts, its events fail with the last status', async () => {
    const emitter = new ZmqEventEmitter({ endpoint: side.config.ingestZmqEndpoint, maxAttempts: 2, backoff: { initialMs: 1, maxMs: 1 }, requestTimeoutMs: 5_000 });
    await side.command.close();
    try {
      await expect(emitter.emit({ userId: 'u', itemId: 'i', type: EventType.VIEW })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      side.command = await startCommand(side.config, silentLogger);
      await emitter.close();
    }
  });

  describe('when ingestion allows smaller payloads than the emitter batches', () => {
    let small: WriteSide;
    beforeAll(async () => {
      small = await startWriteSide({ ingestMaxMessageBytes: 32 * 1024 });
    });
    afterAll(() => small?.stop());

    it('a batch refused as too large is sent in halves: every event is stored once, and one too large alone fails INVALID_ARGUMENT', async () => {
      // Under 4× ingestion's limit, above which ZeroMQ drops the peer instead of answering.
      const emitter = new ZmqEventEmitter({ endpoint: small.config.ingestZmqEndpoint, maxBatchBytes: 120 * 1024 });
      try {
        // ~3 KB each (1,000 three-byte characters of context, within ingestion's limits).
        const emitted = Array.from({ length: 60 }, (_, i) => emitter.emit({ eventId: `halves-${i}`, userId: `hu-${i % 7}`, itemId: 'i-1', type: EventType.VIEW, context: { note: '€'.repeat(1_000) } }));
        const context = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, '€'.repeat(1_000)]));
        // ~48 KB: valid (16,000 characters), but more than this ingestion takes in one payload.
        const alone = emitter.emit({ eventId: 'halves-alone', userId: 'hu-1', itemId: 'i-1', type: EventType.VIEW, context });
        const outcomes = await Promise.all(emitted);
        expect(outcomes.filter((outcome) => !outcome.accepted)).toEqual([]);
        await expect(alone).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, message: expect.stringMatching(/^payload of \d+ bytes exceeds the limit of 32768 bytes$/) });
        expect(emitter.stats.splits).toBeGreaterThan(0);
        expect(await small.count('events', "event_id LIKE 'halves-%'")).toBe(60);
      } finally {
        await emitter.close();
      }
    });
  });

  it('the typed gRPC clients reach ingestion: a stream, a catalog change and an erasure', async () => {
    const address = `127.0.0.1:${side.ingestion.port}`;
    const ingest = createIngestClient(address, { timeoutMs: 10_000 });
    const catalog = createCatalogClient(address, { timeoutMs: 10_000 });
    try {
      expect(await ingest.trackStream([1, 2, 3].map((i) => ({ event: { eventId: `typed-${i}`, userId: 'typed-user', itemId: 'i-1', type: EventType.LIKE } })))).toMatchObject({ accepted: 3 });
      expect(await catalog.upsertItems({ items: [{ itemId: 'typed-item' }] })).toMatchObject({ upserted: 1 });
      expect(await catalog.forgetUser({ userId: 'typed-user' })).toMatchObject({ eventsErased: 3n });
    } finally {
      ingest.close();
      catalog.close();
    }
  });
});
