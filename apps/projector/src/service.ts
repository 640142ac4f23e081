// The projector: a Kafka consumer group over the domain events that keeps the Redis read model.
// Per batch chunk: decode, read what the plans depend on (one round trip), plan (pure), apply every
// event's plan with the exactly-once script (one round trip, in order), then resolve and commit the
// offsets. A crash anywhere before the commit redelivers the chunk, and the applied-markers make
// the redelivery change nothing that was already applied.
//
// Versions (rebuild.ts): the projector writes projection version N (keys under versionPrefix, group
// projectorGroupOf) where N is the control pointer; when a rebuild switches the pointer, it leaves
// the old group and joins the new version's group, which continues where the rebuild got to.
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { OrreryConfig } from '@orrery/config';
import { createKafka, decodeDomainEvent, ensureTopic } from '@orrery/kafka';
import {
  controlKeys,
  createRedis,
  projectionKeys,
  projectorGroupOf,
  readProjectionVersion,
  versionPrefix,
  watchProjectionVersion,
  type RedisClient,
} from '@orrery/projections';
import { contextFromKafkaHeaders, SpanKind, withSpan, type Logger } from '@orrery/telemetry';
import { Freshness, type FreshnessReport } from './freshness';
import { planBatch, type IncomingEvent } from './plan';
import { redisProjectionStore } from './store';

/** Messages planned and applied together: bounds the snapshot read and the in-flight scripts. */
const CHUNK_SIZE = 200;
const FRESHNESS_LOG_INTERVAL_MS = 30_000;

/** A running projector. */
export interface RunningProjector {
  /** Finishes the chunk in hand, commits its offsets, leaves the group and closes Redis. */
  close(): Promise<void>;
  /** Lag distributions of the events applied since start. */
  freshness(): FreshnessReport;
  /** The projection version being written. */
  version(): number;
}

/** Options of startProjector. */
export interface ProjectorOptions {
  /** Write this version only, ignoring the pointer (a rebuild); default: follow the pointer. */
  readonly pinnedVersion?: number;
  /** Freshness of every applied event is also recorded here (a metrics endpoint reads it). */
  readonly freshness?: Freshness;
}

/**
 * Starts consuming config.eventsTopic into the read model under config.redisPrefix: the version the
 * control pointer names (followed as it changes), or options.pinnedVersion.
 */
export async function startProjector(config: OrreryConfig, logger: Logger, options: ProjectorOptions = {}): Promise<RunningProjector> {
  const kafka = createKafka(config, 'projector');
  await ensureTopic(kafka, config.eventsTopic, config.eventsTopicPartitions);
  const redis = createRedis(config, 'orrery-projector');
  const control = controlKeys(config.redisPrefix);
  const freshness = new Freshness();
  const interval = new Freshness();
  const recorders = [freshness, interval, ...(options.freshness ? [options.freshness] : [])];

  let version = options.pinnedVersion ?? (await readProjectionVersion(redis, control));
  let consumer = await startVersionConsumer(kafka, redis, config, logger, version, recorders);
  const stopWatching =
    options.pinnedVersion === undefined
      ? watchProjectionVersion(
          redis,
          control,
          version,
          config.projectionVersionPollMs,
          async (next) => {
            logger.info({ from: version, to: next }, 'projection version switched: joining its consumer group');
            await consumer.close();
            version = next;
            consumer = await startVersionConsumer(kafka, redis, config, logger, version, recorders);
          },
          (error) => logger.error({ err: error }, 'projection version check failed'),
        )
      : () => undefined;

  const timer = setInterval(() => {
    const report = interval.takeReport();
    if (report.fromCommitted.count > 0 || report.fromOccurred.count > 0) logger.info({ freshness: report, version }, 'projector freshness');
  }, FRESHNESS_LOG_INTERVAL_MS);
  timer.unref();

  return {
    freshness: () => freshness.report(),
    version: () => version,
    close: async () => {
      clearInterval(timer);
      stopWatching();
      await consumer.close();
      await redis.quit();
    },
  };
}

/** One consumer group member writing one projection version. */
async function startVersionConsumer(
  kafka: Kafka,
  redis: RedisClient,
  config: OrreryConfig,
  logger: Logger,
  version: number,
  recorders: readonly Freshness[],
): Promise<{ close(): Promise<void> }> {
  const keys = projectionKeys(versionPrefix(config.redisPrefix, version));
  const control = controlKeys(config.redisPrefix);
  const store = redisProjectionStore(redis, keys, control, config.projection, config.redisCluster ? 'slot' : 'event');
  const consumer = kafka.consumer({ groupId: projectorGroupOf(config.projectorGroup, version), allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.eventsTopic], fromBeginning: true });

  const projectChunk = async (topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<void> => {
    const incoming: { readonly message: KafkaMessage; readonly event: IncomingEvent }[] = [];
    for (const message of messages) {
      if (!message.value) {
        logger.warn({ topic, partition, offset: message.offset }, 'empty message skipped');
        continue;
      }
      try {
        incoming.push({ message, event: { event: decodeDomainEvent(message.value), value: message.value, messageTimestampMs: Number(message.timestamp) } });
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
      const { message, event } = incoming[index]!;
      if (outcome.kind === 'skip') {
        logger.warn({ topic, partition, offset: message.offset, reason: outcome.reason }, 'domain event skipped');
        continue;
      }
      const sequential = outcome.plan.eraseTag !== undefined;
      if (sequential) {
        await Promise.all(inFlight);
        inFlight = [];
      }
      const applying = withSpan(
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

  const projectBatch = async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    for (let start = 0; start < batch.messages.length; start += CHUNK_SIZE) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(start, start + CHUNK_SIZE);
      await projectChunk(batch.topic, batch.partition, chunk);
      resolveOffset(chunk[chunk.length - 1]!.offset);
      await heartbeat();
      await commitOffsetsIfNecessary();
    }
  };

  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 1_000,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: Math.max(1, Math.min(4, config.eventsTopicPartitions)),
    eachBatch: projectBatch,
  });
  return { close: () => consumer.disconnect() };
}
