// Applies a chunk of Kafka messages to one projection version: decode, read what the plans depend
// on (one round trip), plan (pure), run every plan's exactly-once script (one pipelined round trip,
// in order). Used by the live consumer (one partition's chunk) and by the rebuild's ordered replay
// (messages of every partition merged in commit order).
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { KafkaMessage } from 'kafkajs';
import type { OrreryConfig } from '@orrery/config';
import { decodeDomainEvent } from '@orrery/kafka';
import type { DomainEvent } from '@orrery/proto';
import { projectedEvents, projectionFreshness, projectorChunkEvents } from '@orrery/metrics';
import { watermarkSource, type ControlKeys, type ProjectionKeys } from '@orrery/projections';
import { contextFromKafkaHeaders, mayBeRecorded, SpanKind, withSpan, type Context, type Logger, type SpanOptions } from '@orrery/telemetry';
import type { Freshness } from './freshness';
import { planBatch, type EventPlan, type IncomingEvent, type PlannedBatch } from './plan';
import type { RecentHeads } from './recent-heads';
import type { ApplyOutcome, ProjectionStore } from './store';

/** A message with where it came from. */
export interface PartitionMessage {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

/** What the apply step writes to its span (a no-op when untraced). */
interface AttributeSink {
  setAttribute(key: string, value: string | number): unknown;
}

/** Options of chunkProjector. */
export interface ChunkProjectorOptions {
  /** One consumer span per applied event, continuing the event's trace (default true; a replay turns it off). */
  readonly traced?: boolean;
  /** The recent-list heads this projector applied (the live consumer's; see recent-heads.ts), kept up to date here. */
  readonly heads?: RecentHeads;
}

/** A function applying chunks of messages (in the order given) to the projection `keys` names. */
export function chunkProjector(
  store: ProjectionStore,
  keys: ProjectionKeys,
  control: ControlKeys,
  config: OrreryConfig,
  logger: Logger,
  recorders: readonly Freshness[],
  options: ChunkProjectorOptions = {},
): (entries: readonly PartitionMessage[]) => Promise<void> {
  const { traced = true, heads } = options;
  const untraced: AttributeSink = { setAttribute: () => undefined };
  // An event whose trace was not sampled (recorded false) gets no span at all: not even its attributes are built.
  const apply = <T>(parent: Context, recorded: boolean, spanOptions: () => SpanOptions, work: (span: AttributeSink) => Promise<T>): Promise<T> =>
    recorded ? withSpan('projector apply', { ...spanOptions(), parent }, work) : work(untraced);

  // Applies a chunk; resolves to the recent lists it leaves (undefined: nothing to apply).
  const applyChunk = async (entries: readonly PartitionMessage[]): Promise<PlannedBatch['recent'] | undefined> => {
    const incoming: { readonly topic: string; readonly partition: number; readonly message: KafkaMessage; readonly event: IncomingEvent }[] = [];
    for (const { topic, partition, message } of entries) {
      if (!message.value) {
        logger.warn({ topic, partition, offset: message.offset }, 'empty message skipped');
        continue;
      }
      try {
        incoming.push({ topic, partition, message, event: { event: decodeDomainEvent(message.value), source: watermarkSource(topic, partition), messageTimestampMs: Number(message.timestamp) } });
      } catch (error) {
        // A message that cannot be decoded never will be: skipping it beats blocking the partition.
        logger.error({ topic, partition, offset: message.offset, err: error }, 'undecodable domain event skipped');
      }
    }
    if (incoming.length === 0) return undefined;
    projectorChunkEvents.observe(incoming.length);
    const events = incoming.map((entry) => entry.event);
    const { outcomes: planned, recent } = planBatch(events, await store.readSnapshot(events, heads), keys, control, config.projection);
    // Events whose plan the watermarks dropped, in whole or in part (a redelivery).
    const unapplied = new Set<DomainEvent>();
    // Consecutive plans go to Redis together (store.applyAll: one script per slot, commutative
    // updates merged); a plan that deletes watermarks (a forgotten user) is applied alone, after the
    // plans before it and before those after it. Each event still gets its own span, covering the
    // batch it was applied in.
    type Planned = { readonly index: number; readonly plan: EventPlan; readonly occurredMs: number | undefined };
    // The batch is sent from inside the span of its first event with a sampled trace (of its first
    // event when none has), so that its Redis call joins a trace that is recorded.
    const record = (entries: readonly Planned[], send: () => Promise<readonly ApplyOutcome[]>): Promise<unknown> => {
      let sent: Promise<readonly ApplyOutcome[]> | undefined;
      const outcomesOf = (): Promise<readonly ApplyOutcome[]> => (sent ??= send());
      const parents = entries.map(({ index }) => contextFromKafkaHeaders(incoming[index]!.message.headers));
      const recorded = parents.map((parent) => traced && mayBeRecorded(parent));
      const positions = entries.map((_, position) => position);
      const firstRecorded = recorded.indexOf(true);
      if (firstRecorded > 0) positions.unshift(...positions.splice(firstRecorded, 1));
      return Promise.all(
        positions.map((position) => {
          const { index, occurredMs } = entries[position]!;
          const { topic, partition, message, event } = incoming[index]!;
          return apply(
            parents[position]!,
            recorded[position]!,
            () => ({
              kind: SpanKind.CONSUMER,
              attributes: {
                'messaging.system': 'kafka',
                'messaging.operation.type': 'process',
                'messaging.destination.name': topic,
                'messaging.destination.partition.id': String(partition),
                'messaging.kafka.offset': message.offset,
                'orrery.event.sequence': event.event.sequence.toString(),
                'orrery.event.kind': event.event.payload.case ?? 'none',
                'orrery.projector.batch_size': entries.length,
                ...(event.event.payload.case === 'interaction' ? { 'orrery.user_id': event.event.payload.value.userId, 'orrery.item_id': event.event.payload.value.itemId } : {}),
              },
            }),
            async (span) => {
              const result = (await outcomesOf())[position]!;
              if (result !== 'applied') unapplied.add(event.event);
              span.setAttribute('orrery.projector.outcome', result);
              projectedEvents.inc({ outcome: result });
              if (result === 'duplicate') return;
              const committedMs = event.event.committedAt ? timestampMs(event.event.committedAt) : undefined;
              const now = Date.now();
              for (const recorder of recorders) recorder.record(now, occurredMs, committedMs);
              if (occurredMs !== undefined) projectionFreshness.observe({ from: 'occurred' }, Math.max(0, now - occurredMs) / 1000);
              if (committedMs !== undefined) projectionFreshness.observe({ from: 'committed' }, Math.max(0, now - committedMs) / 1000);
              if (committedMs !== undefined) span.setAttribute('orrery.projector.lag_from_commit_ms', now - committedMs);
            },
          );
        }),
      );
    };
    let run: Planned[] = [];
    const flushRun = async (): Promise<void> => {
      if (run.length === 0) return;
      const entries = run;
      run = [];
      await record(entries, () => store.applyAll(entries.map((entry) => entry.plan)));
    };
    for (const [index, outcome] of planned.entries()) {
      if (outcome.kind === 'skip') {
        const { topic, partition, message } = incoming[index]!;
        logger[outcome.routine ? 'debug' : 'warn']({ topic, partition, offset: message.offset, reason: outcome.reason }, 'domain event skipped');
        projectedEvents.inc({ outcome: 'skipped' });
        continue;
      }
      const entry = { index, plan: outcome.plan, occurredMs: outcome.occurredMs };
      if (!outcome.plan.deletesWatermarks) {
        run.push(entry);
        continue;
      }
      await flushRun();
      await record([entry], () => store.applyAll([outcome.plan]));
    }
    await flushRun();
    if (unapplied.size === 0) return recent;
    // The lists the plan left are what Redis holds only where every plan was applied: a redelivered
    // event is planned against the snapshot, which may differ from what it was planned against the first
    // time (a deleted item added again since), so its user's list is read from Redis next time.
    const lists = new Map(recent);
    for (const event of unapplied) {
      if (event.payload.case === 'interaction' || event.payload.case === 'userForgotten') lists.set(event.payload.value.userId, undefined);
    }
    return lists;
  };
  return async (entries) => {
    const generation = heads?.generation ?? 0;
    try {
      const recent = await applyChunk(entries);
      if (recent) heads?.remember(recent, generation);
    } catch (error) {
      // What Redis holds of a failed chunk is unknown: every head is read again.
      heads?.forgetAll();
      throw error;
    }
  };
}
