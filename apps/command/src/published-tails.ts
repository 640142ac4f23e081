// What the events topic already holds, partition by partition: the sequence (header
// `orrery-sequence`) of each partition's last message. A relay that starts while facts are still
// unpublished skips those already on their partition — sent by a previous session whose Kafka
// acknowledgement was lost (broker crash, relay killed) — so a resend never duplicates them on the log.
import { randomBytes } from 'node:crypto';
import { Partitioners, type Kafka, type PartitionMetadata } from 'kafkajs';
import { closeThrowawayConsumer } from '@orrery/kafka';

/** Header carrying a message's commit sequence. */
export const SEQUENCE_HEADER = 'orrery-sequence';

/** Where each key goes, as the producer's default partitioner puts it (murmur2 of the key). */
export type PartitionOf = (key: string) => number;

/** The topic's partitioning and the last published sequence of each partition. */
export interface PublishedTails {
  readonly partitionOf: PartitionOf;
  /** Last sequence on the partition; absent when it is empty or its last message has no sequence header. */
  readonly lastSequence: ReadonlyMap<number, bigint>;
}

/** Reads the topic's partitions and, when `withSequences`, the sequence of each partition's last message. */
export async function readPublishedTails(kafka: Kafka, topic: string, withSequences: boolean, timeoutMs = 30_000): Promise<PublishedTails> {
  const admin = kafka.admin();
  await admin.connect();
  let partitions: PartitionMetadata[];
  let ends: { partition: number; high: string; low: string }[];
  try {
    partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
    ends = withSequences ? await admin.fetchTopicOffsets(topic) : [];
  } finally {
    await admin.disconnect();
  }
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionOf: PartitionOf = (key) => partitioner({ topic, partitionMetadata: partitions, message: { key, value: null } });
  const nonEmpty = ends.filter((end) => BigInt(end.high) > BigInt(end.low));
  if (nonEmpty.length === 0) return { partitionOf, lastSequence: new Map() };
  return { partitionOf, lastSequence: await lastSequences(kafka, topic, nonEmpty, timeoutMs) };
}

/** The sequence header of the message at `high - 1` of each given partition (a throwaway consumer group). */
async function lastSequences(kafka: Kafka, topic: string, ends: readonly { partition: number; high: string }[], timeoutMs: number): Promise<Map<number, bigint>> {
  const groupId = `orrery-relay-tail-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const found = new Map<number, bigint>();
  const pending = new Set(ends.map((end) => end.partition));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    let done: () => void = () => undefined;
    const allRead = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const end = ends.find((candidate) => candidate.partition === partition);
        if (!end || BigInt(message.offset) !== BigInt(end.high) - 1n || !pending.has(partition)) return;
        const header = message.headers?.[SEQUENCE_HEADER];
        if (header !== undefined && !Array.isArray(header)) found.set(partition, BigInt(header.toString()));
        pending.delete(partition);
        if (pending.size === 0) done();
      },
    });
    for (const end of ends) consumer.seek({ topic, partition: end.partition, offset: String(BigInt(end.high) - 1n) });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`could not read the last message of ${topic} within ${timeoutMs} ms`)), timeoutMs)));
    try {
      await Promise.race([allRead, expired]);
    } finally {
      clearTimeout(timer);
    }
    return found;
  } finally {
    await closeThrowawayConsumer(kafka, consumer, groupId);
  }
}
