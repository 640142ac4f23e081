import type { OrreryConfig } from '@orrery/config';
import { createKafka } from '@orrery/kafka';
import { kafkaConsumerLag, sampleEvery, type Sampler } from '@orrery/metrics';
import type { Logger } from '@orrery/telemetry';

/** Lag of one partition: messages after the group's committed offset (all of them when none is committed yet). */
export function partitionLag(highWatermark: string, committedOffset: string, lowWatermark: string): number {
  const high = BigInt(highWatermark);
  const committed = BigInt(committedOffset);
  const from = committed < 0n ? BigInt(lowWatermark) : committed;
  return Number(high > from ? high - from : 0n);
}

/**
 * Samples the projector group's lag on the events topic every healthCheckIntervalMs: high
 * watermark minus committed offset per partition, from Kafka's admin API (what the group has
 * committed, so it also shows a stalled or absent consumer). `group` names the group at each sample:
 * the one of the projection version the projector writes (projectorGroupOf), which a rebuild changes.
 */
export function sampleConsumerLag(config: OrreryConfig, logger: Logger, group: () => string): Sampler {
  const admin = createKafka(config, 'projector-lag').admin();
  let connected: Promise<void> | undefined;
  const sampler = sampleEvery(
    config.healthCheckIntervalMs,
    async () => {
      connected ??= admin.connect();
      await connected;
      const [watermarks, [committed]] = await Promise.all([
        admin.fetchTopicOffsets(config.eventsTopic),
        admin.fetchOffsets({ groupId: group(), topics: [config.eventsTopic] }),
      ]);
      const committedOf = new Map((committed?.partitions ?? []).map((partition) => [partition.partition, partition.offset]));
      for (const partition of watermarks) {
        kafkaConsumerLag.set(
          { topic: config.eventsTopic, partition: String(partition.partition) },
          partitionLag(partition.high, committedOf.get(partition.partition) ?? '-1', partition.low),
        );
      }
    },
    (error) => {
      connected = undefined;
      logger.warn({ err: error }, 'consumer lag not sampled');
    },
  );
  return {
    stop: async () => {
      await sampler.stop();
      await admin.disconnect();
    },
  };
}
