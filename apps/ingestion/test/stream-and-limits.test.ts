// TrackStream, backpressure and size limits against the real engines.
import { create, toBinary } from '@bufbuild/protobuf';
import { createClient, status } from '@orrery/grpc';
import { EventType, IngestService, TrackBatchRequestSchema } from '@orrery/proto';
import { eventually } from '@orrery/testing';
import { ZmqRequestClient } from '@orrery/zmq';
import { eventIdOf } from '../../command/test/kafka-collector';
import { STREAM_CHUNK } from '../src/ingest';
import { startIngestion } from '../src/service';
import { silentLogger, startWriteSide, type WriteSide } from './harness';

const view = (eventId: string, userId = `user-${eventId.length % 7}`) => ({ eventId, userId, itemId: 'item-1', type: EventType.VIEW, value: 1 });

describe('TrackStream, backpressure and size limits', () => {
  let side: WriteSide;
  beforeAll(async () => {
    side = await startWriteSide({ ingestMaxMessageBytes: 256 * 1024 });
  });
  afterAll(() => side?.stop());

  it('when a client streams more events than one chunk, every valid one is stored once and refusals count from the first message', async () => {
    const total = STREAM_CHUNK * 2 + 345;
    async function* requests() {
      for (let i = 0; i < total; i += 1) {
        if (i === 7 || i === STREAM_CHUNK + 1) yield { event: { ...view(`s-${i}`), type: EventType.UNSPECIFIED } };
        else yield { event: view(`s-${i}`) };
      }
      yield { event: view('s-3') }; // a repeat of an id already streamed
    }
    const reply = await side.ingest.trackStream(requests());
    expect(reply.accepted).toBe(total - 2 + 1);
    expect(reply.rejected.map(({ index, reason }) => ({ index, reason }))).toEqual([
      { index: 7, reason: 'events[7].type: must be specified' },
      { index: STREAM_CHUNK + 1, reason: `events[${STREAM_CHUNK + 1}].type: must be specified` },
    ]);
    expect(await side.count('events', "event_id LIKE 's-%'")).toBe(total - 2);
    await eventually(async () => side.topic.messages.filter((message) => eventIdOf(message).startsWith('s-')).length, {
      accept: (published) => published >= total - 2,
      what: 'the streamed events on Kafka',
    });
    expect(side.topic.messages.filter((message) => eventIdOf(message).startsWith('s-'))).toHaveLength(total - 2);
  });

  it('when a stream is empty, the reply counts nothing', async () => {
    expect(await side.ingest.trackStream([])).toMatchObject({ accepted: 0, rejected: [] });
  });

  it('when a gRPC message is over the size limit, the call gets RESOURCE_EXHAUSTED and nothing is written', async () => {
    const before = await side.count('events');
    const events = Array.from({ length: 400 }, (_, i) => ({ ...view(`big-${i}`), context: { note: 'x'.repeat(1_000) } }));
    await expect(side.ingest.trackBatch({ events })).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(await side.count('events')).toBe(before);
  });

  it('when a ZeroMQ payload is over the size limit, the emitter gets an INVALID_ARGUMENT reply naming both sizes (not the retryable RESOURCE_EXHAUSTED), nothing is written, and the endpoint keeps serving', async () => {
    const emitter = new ZmqRequestClient({ endpoint: side.config.ingestZmqEndpoint, name: 'emitter', timeoutMs: 10_000 });
    try {
      const before = await side.count('events');
      const events = Array.from({ length: 400 }, (_, i) => ({ ...view(`zbig-${i}`), context: { note: 'x'.repeat(1_000) } }));
      const payload = toBinary(TrackBatchRequestSchema, create(TrackBatchRequestSchema, { events }));
      await expect(emitter.request(payload)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, message: `payload of ${payload.length} bytes exceeds the limit of ${256 * 1024} bytes` });
      expect(await side.count('events')).toBe(before);
      await emitter.request(toBinary(TrackBatchRequestSchema, create(TrackBatchRequestSchema, { events: [view('zsmall-1')] })));
      expect(await side.count('events', "event_id = 'zsmall-1'")).toBe(1);
    } finally {
      await emitter.close();
    }
  });

  it('when more events than the in-flight budget await a commit, a caller is refused RESOURCE_EXHAUSTED with a clear message and nothing of it is written', async () => {
    // Command never answers here (nobody listens), so the first request holds the whole budget.
    const stuck = await startIngestion(
      { ...side.config, ingestAddress: '127.0.0.1:0', ingestZmqEndpoint: side.ipc('orrery-stuck'), commandZmqEndpoint: side.ipc('orrery-nobody'), commandTimeoutMs: 3_000, ingestMaxInFlightEvents: 10, ingestBackpressureWaitMs: 50 },
      silentLogger,
    );
    const client = createClient(IngestService, `127.0.0.1:${stuck.port}`, { timeoutMs: 10_000 });
    try {
      const holding = client.trackBatch({ events: Array.from({ length: 10 }, (_, i) => view(`held-${i}`)) });
      await expect(client.track({ event: view('over-budget') })).rejects.toMatchObject({
        code: status.RESOURCE_EXHAUSTED,
        details: expect.stringMatching(/^ingestion is at its in-flight budget \(10 of 10 events awaiting commit/),
      });
      await expect(holding).rejects.toMatchObject({ code: status.UNAVAILABLE });
      expect(await side.count('events', "event_id = 'over-budget'")).toBe(0);
    } finally {
      client.close();
      await stuck.close();
    }
  });
});
