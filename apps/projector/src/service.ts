// The projector: a Kafka consumer group over the domain events that keeps the Redis read model.
// Per batch chunk: decode, read what the plans depend on (one round trip), plan (pure), apply every
// event's plan with the exactly-once script (one round trip, in order), then resolve and commit the
// offsets. A crash anywhere before the commit redelivers the chunk, and the applied-sequence watermarks make
// the redelivery change nothing that was already applied.
//
// Versions (rebuild.ts): the projector writes projection version N (keys under versionPrefix, group
// projectorGroupOf) where N is the control pointer; when a rebuild switches the pointer, it leaves
// the old group and joins the new version's group, which continues where the rebuild got to.
import { setTimeout as delay } from 'node:timers/promises';
import { KafkaJSNonRetriableError, type Consumer, type EachBatchPayload, type Kafka } from 'kafkajs';
import { backoffCeiling, type BackoffPolicy, type OrreryConfig } from '@orrery/config';
import { createKafka, ensureTopic, keepConsumerRunning, type RestartingConsumer } from '@orrery/kafka';
import {
  controlKeys,
  coVisitLookBack,
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
import { chunkProjector, type PartitionMessage } from './apply-chunk';
import { chunkPipeline, type ChunkPipeline } from './chunk-coalescer';
import { Freshness, type FreshnessReport } from './freshness';
import { OffsetCommits } from './offset-commits';
import { warnOnListpackCoVisits } from './sorted-set-encoding';
import { RecentHeads } from './recent-heads';
import { redisProjectionStore } from './store';

const FRESHNESS_LOG_INTERVAL_MS = 30_000;
/** Pauses between tries to start the consumer of a version switched to. */
const SWITCHED_CONSUMER_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 60_000 };

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
  let closed = false;
  /**
   * Starts the consumer of the version switched to, trying again after a pause (1 s, doubling to 60 s)
   * until it runs or the projector closes. The watcher does not call a switch again once it has seen the
   * new pointer: a start that failed once (a broker unreachable for a moment) left no consumer at all,
   * for as long as the process ran.
   */
  const startSwitchedConsumer = async (): Promise<{ close(): Promise<void> }> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const started = await startVersionConsumer(kafka, redis, config, logger, version, recorders);
        if (!closed) return started;
        await started.close();
      } catch (error) {
        if (closed) throw error;
        const pauseMs = backoffCeiling(attempt, SWITCHED_CONSUMER_BACKOFF);
        projectorConsumerRestarts.inc();
        logger.error({ err: error, version, restartInMs: pauseMs }, 'projector consumer of the version switched to could not be started; trying again');
        await delay(pauseMs, undefined, { ref: false });
        if (!closed) continue;
      }
      throw new Error('the projector closed during a version switch');
    }
  };
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
            consumer = await startSwitchedConsumer();
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
      closed = true;
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
  const store = redisProjectionStore(redis, keys, control, config.projection, config.redisCluster ? 'slot' : 'event', config.projectorCachedItems);
  const heads = new RecentHeads(config.projectorCachedUsers, coVisitLookBack(config.projection.coVisitPartners, config.projection.recentLimit));
  // What the consumer in service shares with its handler; each consumer (a replacement too) has its
  // own, so a failed apply's refusals end with that consumer.
  let session: { readonly pipeline: ChunkPipeline<PartitionMessage>; readonly offsets: OffsetCommits; readonly commits: Set<Promise<void>>; closing: boolean } | undefined;
  // No consumer starts once close() has begun.
  let closing = false;
  // A failure seen before keepConsumerRunning has returned waits here for it.
  let running: RestartingConsumer | undefined;
  let failedBeforeRunning: Error | undefined;
  const replaceConsumer = (error: Error): void => {
    if (running) running.replace(error);
    else failedBeforeRunning ??= error;
  };

  const start = async (): Promise<Consumer> => {
    // A replaced consumer's last chunk is applied before this one's first (both may hold the same events).
    await session?.pipeline.drained();
    if (closing) throw new Error('the projector is closing');
    const consumer = kafka.consumer({ groupId: projectorGroupOf(config.projectorGroup, version), allowAutoTopicCreation: false });
    // A new consumer resumes from the committed offsets, and after a join the partitions may have been
    // another member's meanwhile: the recent-list heads are read from Redis again (recent-heads.ts).
    heads.forgetAll();
    consumer.on(consumer.events.GROUP_JOIN, () => heads.forgetAll());
    // The partitions' concurrent chunks (partitionsConsumedConcurrently below) are applied together, by
    // a chunk projector of this consumer's own: after a failure it refuses every later chunk.
    const applyChunk = chunkProjector(store, keys, control, config, logger, recorders, { heads });
    // A chunk's offsets are committed once it is applied (kafkajs commits nothing itself: autoCommit is
    // off), at most every projectorCommitIntervalMs (offset-commits.ts). A commit also waits behind the
    // fetch long-polling on the same broker connection (up to its 5 s), so one commit per chunk in a row
    // would fall behind. A commit that fails (a rebalance) only means the chunk is delivered again, and
    // the watermarks make that change nothing.
    const offsets = new OffsetCommits(
      (latest) =>
        consumer.commitOffsets(latest).catch((error: unknown) => logger.warn({ err: error, offsets: latest }, 'projector: offsets not committed (a rebalance?); those chunks come again and count once')),
      config.projectorCommitIntervalMs,
    );
    // A replaced consumer's offsets are not committed after all (see discardPending), nor are a rejoined one's.
    session?.offsets.discardPending();
    consumer.on(consumer.events.GROUP_JOIN, () => offsets.discardPending());
    const current = { pipeline: chunkPipeline(applyChunk, config.projectorChunkSize), offsets, commits: new Set<Promise<void>>(), closing: false };
    session = current;
    const commitAfter = (topic: string, partition: number, lastOffset: string): Promise<void> =>
      offsets.after({ topic, partition, offset: (BigInt(lastOffset) + 1n).toString() });

    const projectBatch = async ({ batch, resolveOffset, heartbeat, pause, isRunning, isStale }: EachBatchPayload): Promise<void> => {
      // A consumer that was replaced stops for good (kafkajs would otherwise restart it by itself).
      if (session !== current) throw new KafkaJSNonRetriableError('this projector consumer was replaced');
      // Messages planned and applied together (config.projectorChunkSize at most): bounds the snapshot
      // read and how long one script holds Redis. The script's Lua unpack()s stay under its 8,000-value limit.
      for (let first = 0; first < batch.messages.length; first += config.projectorChunkSize) {
        if (!isRunning() || isStale() || current.closing) {
          // Before kafkajs rejoins or leaves the group, what this member applies is finished, so that
          // the partition's next owner does not apply it at the same time (its offsets may not be
          // committed then: the next owner applies it again, and the watermarks make that a no-op).
          if (current.closing) pause();
          await current.pipeline.drained();
          return;
        }
        const chunk = batch.messages.slice(first, first + config.projectorChunkSize);
        const lastOffset = chunk[chunk.length - 1]!.offset;
        const { started, done } = current.pipeline.submit(chunk.map((message) => ({ topic: batch.topic, partition: batch.partition, message })));
        const committed = done.then(
          () => commitAfter(batch.topic, batch.partition, lastOffset),
          (error: unknown) => {
            if (session === current && !current.closing) replaceConsumer(error instanceof Error ? error : new Error(String(error)));
          },
        );
        current.commits.add(committed);
        void committed.then(() => current.commits.delete(committed));
        // Returning once the chunk is in Redis lets kafkajs fetch the next messages meanwhile (it fetches
        // again only when every partition's handler has returned); waiting for the start bounds that to
        // one fetch ahead. The offset resolved here only moves the fetch position: nothing is committed
        // before the chunk is applied. A chunk refused after an earlier failure is left to the consumer
        // that replaces this one; the partition is paused so that this one does not fetch it again meanwhile.
        try {
          await started;
        } catch {
          pause();
          return;
        }
        resolveOffset(lastOffset);
        try {
          await heartbeat();
        } catch (error) {
          // A rebalance: the same as above.
          await current.pipeline.drained();
          throw error;
        }
      }
    };

    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [config.eventsTopic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, Math.min(4, config.eventsTopicPartitions)),
        eachBatch: projectBatch,
      });
    } catch (error) {
      // Started again later (a replacement, a version switch): this one must not stay connected meanwhile.
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    return consumer;
  };
  // A chunk that fails (or an error kafkajs does not retry) would otherwise stop projecting for good
  // while the process stays up; the replacement resumes from the committed offsets (the watermarks make
  // what is projected again count once).
  const onCrash = (error: Error, restartInMs: number): void => {
    projectorConsumerRestarts.inc();
    logger.error({ err: error, version, restartInMs }, 'projector consumer stopped on an error; starting a new one from the committed offsets');
  };
  const kept = await keepConsumerRunning(start, {
    onCrash,
    onStartFailed: (error) => logger.error({ err: error, version }, 'projector consumer could not be restarted; trying again'),
  });
  running = kept;
  if (failedBeforeRunning) kept.replace(failedBeforeRunning);
  return {
    // The chunks handed in are applied and their offsets committed before the consumer leaves its group.
    close: async () => {
      closing = true;
      if (session) {
        session.closing = true;
        session.offsets.commitAtOnce();
        await session.pipeline.drained();
        await Promise.all([...session.commits]);
      }
      await kept.close();
    },
  };
}
