import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createRedis, type RedisClient } from '@orrery/projections';
import { SpanKind, createLogger } from '@orrery/telemetry';
import { createTestTopic, deleteTestTopic, eventually, uniqueName } from '@orrery/testing';
import { startProjector, type RunningProjector } from '../src/service';
import { interaction, publish } from './domain-events';
import { deleteModel } from './redis-state';

// Spans are collected in memory (not Jaeger): this checks the projector continues the producer's trace.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

let config: OrreryConfig;
let producer: Producer;
let redis: RedisClient;
let projector: RunningProjector;

beforeAll(async () => {
  config = { ...readConfig(), eventsTopic: await createTestTopic(1), eventsTopicPartitions: 1, projectorGroup: uniqueName('projector'), redisPrefix: uniqueName('tracing_test') };
  producer = new Kafka({ clientId: 'tracing-test', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  redis = createRedis(config, 'tracing-test');
  projector = await startProjector(config, createLogger('tracing-test', 'warn'));
});

afterAll(async () => {
  await projector.close();
  await producer.disconnect();
  await deleteModel(redis, config.redisPrefix);
  await redis.quit();
  await provider.shutdown();
  await deleteTestTopic(config.eventsTopic);
});

it('when an event carries a traceparent header, its projection is a consumer span in that trace, child of the producer span', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const producerSpanId = '00f067aa0ba902b7';
  await publish(producer, config.eventsTopic, [interaction({ userId: 'traced', itemId: 'item' })], `00-${traceId}-${producerSpanId}-01`);
  const span = await eventually(async () => exporter.getFinishedSpans().find((finished) => finished.name === 'projector apply'), { what: 'projector apply span' });
  expect(span.spanContext().traceId).toBe(traceId);
  expect(span.parentSpanContext?.spanId).toBe(producerSpanId);
  expect(span.kind).toBe(SpanKind.CONSUMER);
  expect(span.attributes['orrery.projector.outcome']).toBe('applied');
  expect(span.attributes['messaging.destination.name']).toBe(config.eventsTopic);
});

it('when an event belongs to a trace that was not sampled, its projection makes no span; a sampled event after it in the same partition does', async () => {
  const unsampledTraceId = '5bf92f3577b34da6a3ce929d0e0e4737';
  const sampledTraceId = '6bf92f3577b34da6a3ce929d0e0e4738';
  await publish(producer, config.eventsTopic, [interaction({ userId: 'unsampled', itemId: 'item' })], `00-${unsampledTraceId}-00f067aa0ba902b7-00`);
  await publish(producer, config.eventsTopic, [interaction({ userId: 'sampled', itemId: 'item' })], `00-${sampledTraceId}-00f067aa0ba902b7-01`);
  // One partition: once the later event is applied, so is the earlier one.
  await eventually(async () => exporter.getFinishedSpans().find((finished) => finished.spanContext().traceId === sampledTraceId), { what: 'the sampled event’s span' });
  expect(exporter.getFinishedSpans().filter((finished) => finished.spanContext().traceId === unsampledTraceId)).toEqual([]);
});

it('when events of one producer span are applied together, one consumer span covers them: how many, which sequences, and only what they all share', async () => {
  const traceId = '7bf92f3577b34da6a3ce929d0e0e4739';
  const otherTraceId = '8bf92f3577b34da6a3ce929d0e0e473a';
  const shared = [interaction({ userId: 'batch-a', itemId: 'item-1' }), interaction({ userId: 'batch-b', itemId: 'item-1' }), interaction({ userId: 'batch-c', itemId: 'item-1' })];
  await publish(producer, config.eventsTopic, shared, `00-${traceId}-00f067aa0ba902b7-01`);
  await publish(producer, config.eventsTopic, [interaction({ userId: 'batch-d', itemId: 'item-2' })], `00-${otherTraceId}-00f067aa0ba902b7-01`);
  await eventually(async () => exporter.getFinishedSpans().find((finished) => finished.spanContext().traceId === otherTraceId), { what: 'the later event’s span' });
  const spans = exporter.getFinishedSpans().filter((finished) => finished.name === 'projector apply' && finished.spanContext().traceId === traceId);
  // One partition, one send (one record batch, fetched whole): one chunk holds the three.
  expect(spans).toHaveLength(1);
  expect(spans[0]!.attributes).toMatchObject({
    'messaging.batch.message_count': 3,
    'orrery.event.sequence': shared[0]!.sequence.toString(),
    'orrery.event.last_sequence': shared[2]!.sequence.toString(),
    'orrery.projector.outcome': 'applied',
    'orrery.projector.duplicates': 0,
    'orrery.item_id': 'item-1',
    'orrery.event.kind': 'interaction',
  });
  expect(spans[0]!.attributes['orrery.user_id']).toBeUndefined();
  expect(spans[0]!.attributes['orrery.projector.lag_from_commit_ms']).toEqual(expect.any(Number));
});
