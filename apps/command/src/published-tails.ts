// What the events topic already holds, partition by partition: the sequence (header
// `orrery-sequence`) of each partition's last message. A relay that starts while facts are still
// unpublished skips those already on their partition — sent by a previous session whose Kafka
// acknowledgement was lost (broker crash, relay killed) — so a resend never duplicates them on the log.
// Only a tail that is a fact of this event store counts (tailsOfThisStore): a store that lost commits
// Kafka holds (restored from a backup, a lagging replica promoted) gives their sequences to new facts.
import { randomBytes } from 'node:crypto';
import type { Kafka, PartitionMetadata } from 'kafkajs';
import { closeThrowawayConsumer, partitionOfKey } from '@orrery/kafka';

/** Header carrying a message's commit sequence. */
export const SEQUENCE_HEADER = 'orrery-sequence';

/** Where each key goes, as the producer's default partitioner puts it (murmur2 of the key, see partitionOfKey). */
export type PartitionOf = (key: string) => number;

/** The last message of a partition: its sequence header and its value (the serialized fact). */
export interface PublishedTail {
  readonly sequence: bigint;
  readonly payload: Buffer;
}

/** The topic's partitioning and the last published fact of each partition. */
export interface PublishedTails {
  /** How many partitions the topic has. */
  readonly partitions: number;
  readonly partitionOf: PartitionOf;
  /** Last fact on the partition; absent when it is empty or its last message has no sequence header. */
  readonly last: ReadonlyMap<number, PublishedTail>;
}

/** Reads the topic's partitions and the sequence of each partition's last message. */
export async function readPublishedTails(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<PublishedTails> {
  const admin = kafka.admin();
  await admin.connect();
  let partitions: PartitionMetadata[];
  let ends: { partition: number; high: string; low: string }[];
  try {
    partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const partitionOf: PartitionOf = (key) => partitionOfKey(key, partitions.length);
  const nonEmpty = ends.filter((end) => BigInt(end.high) > BigInt(end.low));
  if (nonEmpty.length === 0) return { partitions: partitions.length, partitionOf, last: new Map() };
  return { partitions: partitions.length, partitionOf, last: await lastMessages(kafka, topic, nonEmpty, timeoutMs) };
}

/** The highest of some sequences; 0 when there are none. */
export function highestSequence(sequences: Iterable<bigint>): bigint {
  let highest = 0n;
  for (const sequence of sequences) if (sequence > highest) highest = sequence;
  return highest;
}

/**
 * Keeps the tails the relay may skip up to: those past `position` whose fact this event store holds
 * at the same sequence (`factAt` returns the serialized fact stored at a sequence). Another fact
 * there means the store lost commits that reached Kafka and reused their sequences: skipping up to
 * that tail would drop acknowledged facts that never reached Kafka. A dropped tail costs at most a
 * resend. Tails at or below the position skip nothing (the backlog lies above it).
 */
export async function tailsOfThisStore(
  tails: PublishedTails,
  position: bigint,
  factAt: (sequence: bigint) => Promise<Buffer | undefined>,
): Promise<{ tails: PublishedTails; foreign: number[] }> {
  const kept = new Map<number, PublishedTail>();
  const foreign: number[] = [];
  for (const [partition, tail] of tails.last) {
    if (tail.sequence <= position) continue;
    if ((await factAt(tail.sequence))?.equals(tail.payload)) kept.set(partition, tail);
    else foreign.push(partition);
  }
  return { tails: { ...tails, last: kept }, foreign };
}

/** The message at `high - 1` of each given partition that has a sequence header. */
async function lastMessages(kafka: Kafka, topic: string, ends: readonly { partition: number; high: string }[], timeoutMs: number): Promise<Map<number, PublishedTail>> {
  const found = new Map<number, PublishedTail>();
  await readPartitionRanges(
    kafka,
    topic,
    ends.map(({ partition, high }) => ({ partition, from: BigInt(high) - 1n, to: BigInt(high) })),
    (partition, fact) => {
      if (fact) found.set(partition, fact);
    },
    timeoutMs,
  );
  return found;
}

/** A stretch of a partition: offsets `from` (inclusive) to `to` (exclusive). */
export interface PartitionRange {
  readonly partition: number;
  readonly from: bigint;
  readonly to: bigint;
}

/**
 * Reads the messages of each range in offset order (a throwaway consumer group), handing each one's
 * fact to `onFact` — undefined for a message without a sequence header. Fails after `timeoutMs`.
 */
export async function readPartitionRanges(
  kafka: Kafka,
  topic: string,
  ranges: readonly PartitionRange[],
  onFact: (partition: number, fact: PublishedTail | undefined) => void,
  timeoutMs = 30_000,
): Promise<void> {
  const pending = new Map(ranges.filter((range) => range.to > range.from).map((range) => [range.partition, range]));
  if (pending.size === 0) return;
  const groupId = `orrery-relay-tail-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    let done: () => void = () => undefined;
    const allRead = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const range = pending.get(partition);
        const offset = BigInt(message.offset);
        if (!range || offset < range.from || offset >= range.to) return;
        const header = message.headers?.[SEQUENCE_HEADER];
        onFact(partition, header !== undefined && !Array.isArray(header) ? { sequence: BigInt(header.toString()), payload: message.value ?? Buffer.alloc(0) } : undefined);
        if (offset === range.to - 1n) pending.delete(partition);
        if (pending.size === 0) done();
      },
    });
    for (const range of pending.values()) consumer.seek({ topic, partition: range.partition, offset: String(range.from) });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`could not read ${topic} partitions ${[...pending.keys()].join(', ')} within ${timeoutMs} ms`)), timeoutMs)));
    try {
      await Promise.race([allRead, expired]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await closeThrowawayConsumer(kafka, consumer, groupId);
  }
}
