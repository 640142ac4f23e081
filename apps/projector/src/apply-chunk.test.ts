import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { KafkaMessage } from 'kafkajs';
import { readConfig } from '@orrery/config';
import { encodeDomainEvent } from '@orrery/kafka';
import { controlKeys, projectionKeys, type RecentEntry } from '@orrery/projections';
import { projectedEvents } from '@orrery/metrics';
import type { DomainEvent } from '@orrery/proto';
import { createLogger, trace } from '@orrery/telemetry';
import { interaction } from '../test/domain-events';
import { chunkProjector, type PartitionMessage } from './apply-chunk';
import { chunkPipeline, type ChunkPipeline } from './chunk-coalescer';
import { emptySnapshot } from './plan';
import { RecentHeads } from './recent-heads';
import type { ApplyOutcome, ProjectionStore } from './store';

const config = readConfig();
// Spans are collected in memory: the projector's apply spans are checked without Jaeger.
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
afterAll(() => provider.shutdown());

/** The events as one partition's messages, in order, each with the headers `headersOf` gives it (none by default). */
const messagesOf = (events: readonly DomainEvent[], headersOf: (index: number) => Record<string, Buffer> = () => ({})): PartitionMessage[] =>
  events.map((event, offset) => ({ topic: 't', partition: 0, message: { value: Buffer.from(encodeDomainEvent(event)), timestamp: '0', offset: String(offset), headers: headersOf(offset) } as unknown as KafkaMessage }));

const allApplied = (plans: readonly unknown[]): Promise<ApplyOutcome[]> => Promise.resolve(plans.map((): ApplyOutcome => 'applied'));

/** The live consumer's arrangement over `store`: a chunk projector keeping `heads`, behind a pipeline of one-message applies. */
const pipelineOver = (store: ProjectionStore, heads: RecentHeads): ChunkPipeline<PartitionMessage> =>
  chunkPipeline(chunkProjector(store, projectionKeys('t'), controlKeys('t'), config, createLogger('apply-chunk-test', 'error'), [], { traced: false, heads }), 1);

describe('a chunk projector', () => {
  it('when a chunk fails before sending anything, the chunk handed in after it is refused with that failure and nothing of it is applied', async () => {
    const applied: number[] = [];
    let snapshots = 0;
    const store: ProjectionStore = {
      // The first read fails (Redis unreachable); a second would succeed.
      readSnapshot: () => (snapshots++ === 0 ? Promise.reject(new Error('redis down')) : Promise.resolve(emptySnapshot())),
      snapshotInMemory: () => undefined,
      applyAll: (plans) => {
        applied.push(plans.length);
        return allApplied(plans);
      },
      applyAfter: (plans) => {
        applied.push(plans.length);
        return allApplied(plans);
      },
    };
    const pipeline = pipelineOver(store, new RecentHeads(100, 9));
    const first = pipeline.submit(messagesOf([interaction({ userId: 'u1', itemId: 'a' })]));
    // Queued while the first reads its snapshot: it starts as soon as the first has settled its `sent`.
    const second = pipeline.submit(messagesOf([interaction({ userId: 'u1', itemId: 'b' })]));
    await expect(first.done).rejects.toThrow('redis down');
    await expect(second.done).rejects.toThrow('redis down');
    expect(applied).toEqual([]);
    expect(snapshots).toBe(1);
  });

  it('when the heads are forgotten while a chunk is in Redis (a group join), the next chunk is not planned on the lists that chunk leaves', async () => {
    const chained: number[] = [];
    let releaseFirst!: () => void;
    const firstApplied = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstSent!: () => void;
    const firstCall = new Promise<void>((resolve) => (firstSent = resolve));
    let calls = 0;
    const store: ProjectionStore = {
      readSnapshot: () => Promise.resolve(emptySnapshot()),
      // From memory whenever every user's list is there (the catalog facts and counts do not matter here).
      snapshotInMemory: (events, listOf) => {
        const recent = new Map<string, readonly RecentEntry[]>();
        for (const { event } of events) {
          if (event.payload.case !== 'interaction') return undefined;
          const list = listOf(event.payload.value.userId);
          if (list === undefined) return undefined;
          recent.set(event.payload.value.userId, list);
        }
        return { snapshot: { ...emptySnapshot(), recent }, counts: [] };
      },
      applyAll: (plans) => {
        if (calls++ > 0) return allApplied(plans);
        firstSent();
        return firstApplied.then(() => allApplied(plans));
      },
      applyAfter: (plans) => {
        chained.push(plans.length);
        return allApplied(plans);
      },
    };
    const heads = new RecentHeads(100, 9);
    const pipeline = pipelineOver(store, heads);
    const first = pipeline.submit(messagesOf([interaction({ userId: 'u1', itemId: 'a' })]));
    await firstCall;
    heads.forgetAll();
    const second = pipeline.submit(messagesOf([interaction({ userId: 'u1', itemId: 'b' })]));
    await new Promise((resolve) => setImmediate(resolve));
    releaseFirst();
    await Promise.all([first.done, second.done]);
    expect(chained).toEqual([]);
    expect(calls).toBe(2);
  });
});

describe("a chunk projector's spans and counts", () => {
  it('gives the events of each sampled producer span one span (how many, which sequences, the outcome or mixed, the duplicates), none to an unsampled one, counts every outcome, and sends from a recorded span', async () => {
    const traceparent = (traceId: string, sampled: boolean): string => `00-${traceId}-00f067aa0ba902b7-${sampled ? '01' : '00'}`;
    const [unsampled, mixed, applied] = ['1'.repeat(32), '2'.repeat(32), '3'.repeat(32)];
    const events = [
      { event: interaction({ userId: 'u0', itemId: 'a' }), traceId: unsampled, outcome: 'duplicate' },
      { event: interaction({ userId: 'u1', itemId: 'a' }), traceId: mixed, outcome: 'applied' },
      { event: interaction({ userId: 'u2', itemId: 'b' }), traceId: applied, outcome: 'applied' },
      { event: interaction({ userId: 'u1', itemId: 'a' }), traceId: mixed, outcome: 'duplicate' },
      { event: interaction({ userId: 'u1', itemId: 'a' }), traceId: mixed, outcome: 'applied' },
    ] as const;
    const messages = messagesOf(
      events.map(({ event }) => event),
      (index) => ({ traceparent: Buffer.from(traceparent(events[index]!.traceId, events[index]!.traceId !== unsampled)) }),
    );
    const sentFromTraces: (string | undefined)[] = [];
    const outcomes = (plans: readonly unknown[]): Promise<ApplyOutcome[]> => {
      sentFromTraces.push(trace.getActiveSpan()?.spanContext().traceId);
      return Promise.resolve(plans.map((_, n): ApplyOutcome => events[n]!.outcome));
    };
    const store: ProjectionStore = { readSnapshot: () => Promise.resolve(emptySnapshot()), snapshotInMemory: () => undefined, applyAll: outcomes, applyAfter: outcomes };
    const counted = async (outcome: ApplyOutcome): Promise<number> => (await projectedEvents.get()).values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
    const [appliedBefore, duplicatesBefore] = [await counted('applied'), await counted('duplicate')];
    exporter.reset();

    const project = chunkProjector(store, projectionKeys('t'), controlKeys('t'), config, createLogger('apply-chunk-test', 'error'), []);
    await project(messages).done;

    const spans = exporter.getFinishedSpans().filter((span) => span.name === 'projector apply');
    const spanOf = (traceId: string) => spans.find((span) => span.spanContext().traceId === traceId);
    expect(spans).toHaveLength(2);
    expect(spanOf(unsampled)).toBeUndefined();
    expect(spanOf(mixed)!.attributes).toMatchObject({
      'messaging.batch.message_count': 3,
      'orrery.event.sequence': events[1].event.sequence.toString(),
      'orrery.event.last_sequence': events[4].event.sequence.toString(),
      'orrery.projector.outcome': 'mixed',
      'orrery.projector.duplicates': 1,
      'orrery.projector.batch_size': 5,
      'orrery.user_id': 'u1',
      'orrery.item_id': 'a',
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': '1',
    });
    expect(spanOf(applied)!.attributes).toMatchObject({ 'messaging.batch.message_count': 1, 'orrery.projector.outcome': 'applied', 'orrery.projector.duplicates': 0, 'orrery.user_id': 'u2' });
    expect(spanOf(applied)!.attributes['orrery.projector.lag_from_commit_ms']).toEqual(expect.any(Number));
    // The first event's trace was not sampled: the call went to Redis from the first recorded group's span.
    expect(sentFromTraces).toEqual([mixed]);
    expect((await counted('applied')) - appliedBefore).toBe(3);
    expect((await counted('duplicate')) - duplicatesBefore).toBe(2);
  });
});
