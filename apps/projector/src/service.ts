// The projector: a Kafka consumer group over the domain events that keeps the Redis read model.
// Per batch chunk: decode, read what the plans depend on (one round trip), plan (pure), apply every
// event's plan with the exactly-once script (one round trip, in order), then resolve and commit the
// offsets. A crash anywhere before the commit redelivers the chunk, and the applied-sequence watermarks make
// the redelivery change nothing that was already applied.
//
// Versions (rebuild.ts): the projector writes projection version N (keys under versionPrefix, group
// projectorGroupOf) where N is the control pointer; when a rebuild switches the pointer, it leaves
// the old group and joins the new version's group, which continues where the rebuild got to.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { OrreryConfig } from '@orrery/config';
import { createKafka, ensureTopic, keepConsumerRunning } from '@orrery/kafka';
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
import { projectorConsumerRestarts } from '@orrery/metrics';
import type { Logger } from '@orrery/telemetry';
import { chunkProjector } from './apply-chunk';
import { coalescedChunks } from './chunk-coalescer';
import { Freshness, type FreshnessReport } from './freshness';
import { warnOnListpackCoVisits } from './sorted-set-encoding';
import { redisProjectionStore } from './store';

const FRESHNESS_LOG_INTERVAL_MS = 30_000;

/** A running projector. */
export interface RunningProjector {
  /** Finishes the chunk in hand, commits its offsets, leaves the group and closes Redis. */
  close(): Promise<void>;
  /** Lag distributions of the events applied since start. */
  freshness(): FreshnessReport;
  /** The same as histogram buckets, for a metrics endpoint (see Freshness.histograms). */
  freshnessHistograms(): ReturnType<Freshness['histograms']>;
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
  await warnOnListpackCoVisits(redis, config.projection.coVisitLimit, logger);
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
    freshnessHistograms: () => freshness.histograms(),
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
  // The partitions' concurrent chunks (partitionsConsumedConcurrently below) are applied together.
  const projectChunk = coalescedChunks(chunkProjector(store, keys, control, config, logger, recorders), config.projectorChunkSize);

  const projectBatch = async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> => {
    // Messages planned and applied together (config.projectorChunkSize at most): bounds the snapshot
    // read and how long one script holds Redis. The script's Lua unpack()s stay under its 8,000-value limit.
    for (let start = 0; start < batch.messages.length; start += config.projectorChunkSize) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(start, start + config.projectorChunkSize);
      await projectChunk(chunk.map((message) => ({ topic: batch.topic, partition: batch.partition, message })));
      resolveOffset(chunk[chunk.length - 1]!.offset);
      await heartbeat();
      await commitOffsetsIfNecessary();
    }
  };

  const start = async (): Promise<Consumer> => {
    const consumer = kafka.consumer({ groupId: projectorGroupOf(config.projectorGroup, version), allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [config.eventsTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 1_000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, Math.min(4, config.eventsTopicPartitions)),
      eachBatch: projectBatch,
    });
    return consumer;
  };
  // A chunk that fails with an error kafkajs does not retry would otherwise stop projecting for good
  // while the process stays up; the replacement resumes from the committed offsets (applied-event
  // markers make what is projected again count once).
  const running = await keepConsumerRunning(start, {
    onCrash: (error, restartInMs) => {
      projectorConsumerRestarts.inc();
      logger.error({ err: error, version, restartInMs }, 'projector consumer stopped on an error kafkajs does not restart from; starting a new one');
    },
    onStartFailed: (error) => logger.error({ err: error, version }, 'projector consumer could not be restarted; trying again'),
  });
  return { close: () => running.close() };
}
