// The write path end to end against the real local engines: gRPC/ZeroMQ → ingestion → command →
// Postgres → outbox relay → Kafka. Each run has its own database, topic and endpoints.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Metadata } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { OrreryConfig } from '@orrery/config';
import { createClient, status, type Client as GrpcClient } from '@orrery/grpc';
import { CatalogService, EventType, IngestService, TrackBatchRequestSchema, TrackBatchResponseSchema } from '@orrery/proto';
import { eventually } from '@orrery/testing';
import { ZmqRequestClient } from '@orrery/zmq';
import { eventIdOf, type TopicCollector } from '../../command/test/kafka-collector';
import { startIngestion } from '../src/service';
import { silentLogger, startWriteSide, type WriteSide } from './harness';

// Real spans (kept in memory) so trace context flows through ZeroMQ frames and the outbox.
const spans = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
provider.register();

const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/;

describe('write path', () => {
  let side: WriteSide;
  let config: OrreryConfig;
  let ingest: GrpcClient<typeof IngestService>;
  let catalog: GrpcClient<typeof CatalogService>;
  let db: Client;
  let topic: TopicCollector;
  const ipc = (name: string): string => side.ipc(name);

  const click = (eventId: string, userId = 'user-1') => ({ eventId, userId, itemId: 'item-1', type: EventType.CLICK, value: 1 });
  const published = (eventId: string) => topic.messages.filter((message) => eventIdOf(message) === eventId);
  const storedIds = async (pattern: string) =>
    (await db.query<{ event_id: string }>('SELECT event_id FROM events WHERE event_id LIKE $1 ORDER BY sequence', [pattern])).rows.map((row) => row.event_id);
  const eventCount = () => side.count('events');

  beforeAll(async () => {
    side = await startWriteSide();
    ({ config, ingest, catalog, db, topic } = side);
  });
  afterAll(async () => {
    await side?.stop();
    await provider.shutdown();
  });

  it('when the same event id arrives twice, it is stored once', async () => {
    expect(await ingest.track({ event: click('dup-1') })).toMatchObject({ eventId: 'dup-1', duplicate: false });
    expect(await ingest.track({ event: click('dup-1') })).toMatchObject({ eventId: 'dup-1', duplicate: true });
    expect(await storedIds('dup-%')).toEqual(['dup-1']);
    // A later event of the same user shares the partition: once it is on Kafka, dup-1's copies would be too.
    await ingest.track({ event: click('dup-marker') });
    await eventually(async () => published('dup-marker').length, { what: 'the marker event on Kafka' });
    expect(published('dup-1')).toHaveLength(1);
  });

  it('when an event is acknowledged, it appears in Kafka with its sequence, keyed by user, with a traceparent header', async () => {
    const { eventId } = await ingest.track({ event: { userId: 'user-trace', itemId: 'item-7', type: EventType.PURCHASE, value: 19.99 } });
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    const stored = await db.query<{ sequence: string }>('SELECT sequence FROM events WHERE event_id = $1', [eventId]);
    expect(stored.rows).toHaveLength(1);

    const [message] = await eventually(async () => published(eventId), { accept: (found) => found.length > 0, what: 'the acknowledged event on Kafka' });
    expect(message!.key).toBe('user-trace');
    expect(message!.event.sequence).toBe(BigInt(stored.rows[0]!.sequence));
    expect(message!.event.payload.case === 'interaction' && message!.event.payload.value).toMatchObject({ userId: 'user-trace', itemId: 'item-7', value: 19.99 });
    const traceId = TRACEPARENT.exec(message!.traceparent ?? '')?.[1];
    expect(traceId).toBeDefined();
    // The header continues the trace of the request: ingestion's call to command and the relay's publish share it.
    // The publish span ends when the relay has Kafka's acknowledgement, which can come after a consumer saw the message.
    const expected = ['command request', 'command serve', `${config.eventsTopic} publish`];
    const traceNames = async (): Promise<string[]> => spans.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId).map((span) => span.name);
    const trace = await eventually(traceNames, { accept: (names) => expected.every((name) => names.includes(name)), timeoutMs: 5_000, what: 'the publish span to end' }).catch(traceNames);
    expect(trace).toEqual(expect.arrayContaining(expected));
  });

  it('when concurrent Track calls are merged into one command, each event reaches Kafka in the trace of the call that sent it', async () => {
    // More calls at once than ingestion keeps commands in flight (4): the calls queued meanwhile go to command merged.
    const calls = Array.from({ length: 24 }, (_, index) => ({ eventId: `merged-${index}`, traceId: randomBytes(16).toString('hex') }));
    await Promise.all(
      calls.map(({ eventId, traceId }) => {
        const metadata = new Metadata();
        metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
        return ingest.track({ event: click(eventId, `user-${eventId}`) }, { metadata });
      }),
    );
    await eventually(async () => calls.every(({ eventId }) => published(eventId).length > 0) || undefined, { what: 'the merged calls\' events on Kafka' });
    // The publish span whose traceparent each message carries is in its caller's trace, not in the trace of the first call of its command.
    const traceOfMessage = calls.map(({ eventId }) => TRACEPARENT.exec(published(eventId)[0]!.traceparent ?? '')?.[1]);
    expect(traceOfMessage).toEqual(calls.map(({ traceId }) => traceId));
    // And calls were merged: a merged call's own `command request` span, in its trace, names the trace its command went in.
    const mergedCallSpans = spans.getFinishedSpans().filter((span) => span.name === 'command request' && span.attributes['orrery.merged_into.trace_id'] !== undefined);
    expect(mergedCallSpans.length).toBeGreaterThan(0);
  });

  it('when a batch mixes valid and invalid events, the valid ones are stored and the invalid ones listed with index and reason', async () => {
    const response = await ingest.trackBatch({
      events: [click('mix-ok-1'), { ...click('mix-bad-1'), type: EventType.UNSPECIFIED }, click('mix-ok-2'), { ...click('mix-bad-2'), userId: '' }, { ...click('mix-bad-3'), value: Number.NaN }],
    });
    expect(response.accepted).toBe(2);
    expect(response.rejected.map(({ index, reason }) => ({ index, reason }))).toEqual([
      { index: 1, reason: 'events[1].type: must be specified' },
      { index: 3, reason: 'events[3].user_id: must not be empty' },
      { index: 4, reason: 'events[4].value: must be a finite number' },
    ]);
    expect(await storedIds('mix-%')).toEqual(['mix-ok-1', 'mix-ok-2']);
    expect((await ingest.trackBatch({ events: [] })).accepted).toBe(0);
  });

  it('when input is invalid, gRPC answers INVALID_ARGUMENT naming the field and the events table is unchanged', async () => {
    const before = await eventCount();
    await expect(ingest.track({ event: { ...click('bad-1'), userId: '' } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'event.user_id: must not be empty' });
    await expect(ingest.track({ event: { ...click('bad-2'), occurredAt: timestampFromMs(Date.UTC(1990, 0, 1)) } })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'event.occurred_at: must not be before 2000-01-01',
    });
    await expect(ingest.track({})).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'event: must be set' });
    const oversized = Array.from({ length: 10_001 }, (_, i) => click(`big-${i}`));
    await expect(ingest.trackBatch({ events: oversized })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'events: at most 10000 per batch' });
    expect(await eventCount()).toBe(before);
  });

  it('when catalog entries are upserted, the valid ones are stored and the invalid ones listed', async () => {
    const items = await catalog.upsertItems({ items: [{ itemId: 'item-a', categories: ['books'] }, { itemId: 'item-b', tags: [''] }] });
    expect(items.upserted).toBe(1);
    expect(items.rejected.map(({ index, reason }) => ({ index, reason }))).toEqual([{ index: 1, reason: 'items[1].tags[0]: must not be empty' }]);
    const users = await catalog.upsertUsers({ users: [{ userId: '' }, { userId: 'user-a', attributes: { plan: 'pro' } }] });
    expect(users.upserted).toBe(1);
    expect(users.rejected.map(({ index, reason }) => ({ index, reason }))).toEqual([{ index: 0, reason: 'users[0].user_id: must not be empty' }]);
    const stored = await db.query("SELECT (SELECT count(*) FROM items WHERE item_id IN ('item-a', 'item-b'))::int AS items, (SELECT attributes FROM users WHERE user_id = 'user-a') AS attributes");
    expect(stored.rows[0]).toEqual({ items: 1, attributes: { plan: 'pro' } });
  });

  it('the ZeroMQ endpoint accepts a batch, answers a garbage payload with an error reply, and keeps serving', async () => {
    const emitter = new ZmqRequestClient({ endpoint: config.ingestZmqEndpoint, name: 'emitter', timeoutMs: 10_000 });
    try {
      const batch = (events: ReturnType<typeof click>[]) => toBinary(TrackBatchRequestSchema, create(TrackBatchRequestSchema, { events }));
      const first = fromBinary(TrackBatchResponseSchema, await emitter.request(batch([click('zmq-1'), { ...click('zmq-bad'), itemId: '' }])));
      expect(first.accepted).toBe(1);
      expect(first.rejected.map(({ index, reason }) => ({ index, reason }))).toEqual([{ index: 1, reason: 'events[1].item_id: must not be empty' }]);

      await expect(emitter.request(Buffer.from([0x0a, 0xff, 0xff, 0xff]))).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, message: 'payload: not a serialized orrery.v1.TrackBatchRequest' });

      const after = fromBinary(TrackBatchResponseSchema, await emitter.request(batch([click('zmq-2')])));
      expect(after.accepted).toBe(1);
      expect(await storedIds('zmq-%')).toEqual(['zmq-1', 'zmq-2']);
    } finally {
      await emitter.close();
    }
  });

  it('when command does not answer in time, the client gets UNAVAILABLE', async () => {
    const orphan = await startIngestion(
      { ...config, ingestAddress: '127.0.0.1:0', ingestZmqEndpoint: ipc('orrery-orphan'), commandZmqEndpoint: ipc('orrery-nobody'), commandTimeoutMs: 100 },
      silentLogger,
    );
    const client = createClient(IngestService, `127.0.0.1:${orphan.port}`, { timeoutMs: 10_000 });
    try {
      await expect(client.track({ event: click('orphan-1') })).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      client.close();
      await orphan.close();
    }
  });
});
