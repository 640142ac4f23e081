// Applies a chunk of Kafka messages to one projection version: decode, read what the plans depend
// on (one round trip), plan (pure), run every plan's exactly-once script (one pipelined round trip,
// in order). Used by the live consumer (one partition's chunk) and by the rebuild's ordered replay
// (messages of every partition merged in commit order).
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { KafkaMessage } from 'kafkajs';
import type { OrreryConfig } from '@orrery/config';
import { decodeDomainEvent } from '@orrery/kafka';
import type { ControlKeys, ProjectionKeys } from '@orrery/projections';
import { contextFromKafkaHeaders, SpanKind, withSpan, type Logger, type SpanOptions } from '@orrery/telemetry';
import type { Freshness } from './freshness';
import { planBatch, type IncomingEvent } from './plan';
import type { ProjectionStore } from './store';

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
  const traced = options.traced ?? true;
  const untraced: AttributeSink = { setAttribute: () => undefined };
  const apply = <T>(name: string, spanOptions: SpanOptions, work: (span: AttributeSink) => Promise<T>): Promise<T> => (traced ? withSpan(name, spanOptions, work) : work(untraced));

  return async (entries) => {
    const incoming: { readonly topic: string; readonly partition: number; readonly message: KafkaMessage; readonly event: IncomingEvent }[] = [];
    for (const { topic, partition, message } of entries) {
      if (!message.value) {
        logger.warn({ topic, partition, offset: message.offset }, 'empty message skipped');
        continue;
      }
      try {
        incoming.push({ topic, partition, message, event: { event: decodeDomainEvent(message.value), value: message.value, messageTimestampMs: Number(message.timestamp) } });
      } catch (error) {
        // A message that cannot be decoded never will be: skipping it beats blocking the partition.
        logger.error({ topic, partition, offset: message.offset, err: error }, 'undecodable domain event skipped');
      }
    }
    if (incoming.length === 0) return;
    const events = incoming.map((entry) => entry.event);
    const planned = planBatch(events, await store.readSnapshot(events), keys, control, config.projection);
    // Every plan's scripts are sent before the next plan's (no await in between), so one user's
    // events apply in partition order, and all of them share one round trip. A plan that must SCAN
    // first (a forgotten user) waits for the ones before it, and the ones after wait for it.
    let inFlight: Promise<unknown>[] = [];
    for (const [index, outcome] of planned.entries()) {
      const { topic, partition, message, event } = incoming[index]!;
      if (outcome.kind === 'skip') {
        logger[outcome.routine ? 'debug' : 'warn']({ topic, partition, offset: message.offset, reason: outcome.reason }, 'domain event skipped');
        continue;
      }
      const sequential = outcome.plan.eraseTag !== undefined;
      if (sequential) {
        await Promise.all(inFlight);
        inFlight = [];
      }
      const applying = apply(
        'projector apply',
        {
          kind: SpanKind.CONSUMER,
          parent: contextFromKafkaHeaders(message.headers),
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': topic,
            'messaging.destination.partition.id': String(partition),
            'messaging.kafka.offset': message.offset,
            'orrery.event.sequence': event.event.sequence.toString(),
            'orrery.event.kind': event.event.payload.case ?? 'none',
          },
        },
        async (span) => {
          const result = await store.apply(outcome.plan);
          span.setAttribute('orrery.projector.outcome', result);
          if (result === 'duplicate') return;
          const committedMs = event.event.committedAt ? timestampMs(event.event.committedAt) : undefined;
          const now = Date.now();
          for (const recorder of recorders) recorder.record(now, outcome.occurredMs, committedMs);
          if (committedMs !== undefined) span.setAttribute('orrery.projector.lag_from_commit_ms', now - committedMs);
        },
      );
      if (sequential) await applying;
      else inFlight.push(applying);
    }
    await Promise.all(inFlight);
  };
}
