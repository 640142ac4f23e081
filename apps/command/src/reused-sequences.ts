// Facts that took the sequence of a commit the event store lost. A store restored from a backup, or
// a lagging replica promoted, hands the sequences of commits it lost (which may have reached Kafka)
// to the facts committed after it — until a relay session starts and moves the store's sequence past
// what Kafka holds (allocateAbove). A consumer takes a fact at or below the highest sequence it applied
// from that partition for a copy, so such a fact would be acknowledged, stored, published and never
// applied. The relay's session start finds these facts and gives them new sequences above Kafka's.
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { Kafka } from 'kafkajs';
import type { ClientBase } from 'pg';
import { decodeDomainEvent } from '@orrery/kafka';
import { readUnpublished, resequenceFacts, type OutboxRow } from '@orrery/store';
import { highestSequence, readPartitionRanges, type PartitionRange, type PublishedTails } from './published-tails';

/**
 * How much earlier than a fact's commit time (the store's clock) its copy on Kafka may be stamped (the
 * relay host's clock): the Kafka read for a partition starts at the oldest suspect's commit time minus this.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

/** Facts read per query while looking for suspects. */
const BACKLOG_PAGE = 10_000;
/** How long reading the suspects' stretch of Kafka may take (a recovery, rare, possibly minutes of history). */
const KAFKA_READ_TIMEOUT_MS = 10 * 60_000;

/**
 * In the caller's transaction, under the commit-order lock (so no fact commits in between): finds the
 * unpublished facts (after `position`) that sit at or below the tail of a `foreign` partition — one
 * whose last fact this store does not hold, that is, the store lost commits that reached Kafka — and
 * that the partition does not hold at their own sequence (a fact that is there with the same bytes
 * reached Kafka before the loss and is simply resent), and gives them new sequences after every one
 * handed out (resequenceFacts), in their commit order. Call it after allocateAbove, so the new
 * sequences are above Kafka's. Resolves to the old → new sequences.
 *
 * Facts of the other partitions need nothing: the store keeps a prefix of its commits (commit order
 * is sequence order), so a partition that received no lost commit ends with a fact the store holds,
 * below every sequence the store handed out again.
 */
export async function moveReusedSequences(
  tx: ClientBase,
  kafka: Kafka,
  topic: string,
  published: PublishedTails,
  foreign: readonly number[],
  position: bigint,
): Promise<Map<bigint, bigint>> {
  const tailOf = new Map(foreign.map((partition) => [partition, published.last.get(partition)!.sequence]));
  const highestTail = highestSequence(tailOf.values());
  const suspects = new Map<number, OutboxRow[]>();
  let after = position;
  while (after < highestTail) {
    const page = await readUnpublished(tx, String(after), BACKLOG_PAGE);
    for (const fact of page) {
      const partition = published.partitionOf(fact.key);
      const tail = tailOf.get(partition);
      if (tail === undefined || BigInt(fact.sequence) > tail) continue;
      const facts = suspects.get(partition);
      if (facts) facts.push(fact);
      else suspects.set(partition, [fact]);
    }
    if (page.length < BACKLOG_PAGE) break;
    after = BigInt(page.at(-1)!.sequence);
  }
  if (suspects.size === 0) return new Map();

  const oldestCommitMs = Math.min(...[...suspects.values()].flat().map((fact) => committedAtMs(fact)));
  const admin = kafka.admin();
  await admin.connect();
  let ranges: PartitionRange[];
  try {
    const [starts, ends] = await Promise.all([admin.fetchTopicOffsetsByTimestamp(topic, oldestCommitMs - CLOCK_SKEW_ALLOWANCE_MS), admin.fetchTopicOffsets(topic)]);
    ranges = ends
      .filter(({ partition }) => suspects.has(partition))
      .map(({ partition, low, high }) => {
        const start = starts.find((candidate) => candidate.partition === partition)?.offset ?? low;
        return { partition, from: BigInt(start) > BigInt(low) ? BigInt(start) : BigInt(low), to: BigInt(high) };
      });
  } finally {
    await admin.disconnect();
  }
  // What each partition holds at the suspects' sequences.
  const suspectSequences = new Map([...suspects.entries()].map(([partition, facts]) => [partition, new Set(facts.map((fact) => BigInt(fact.sequence)))]));
  const held = new Map<number, Map<bigint, Buffer>>([...suspects.keys()].map((partition) => [partition, new Map()]));
  await readPartitionRanges(
    kafka,
    topic,
    ranges,
    (partition, fact) => {
      if (fact && suspectSequences.get(partition)?.has(fact.sequence)) held.get(partition)!.set(fact.sequence, fact.payload);
    },
    KAFKA_READ_TIMEOUT_MS,
  );
  const reused = [...suspects.entries()].flatMap(([partition, facts]) =>
    facts.filter((fact) => !held.get(partition)!.get(BigInt(fact.sequence))?.equals(fact.payload)).map((fact) => BigInt(fact.sequence)),
  );
  return resequenceFacts(tx, reused);
}

/** When the fact was committed, in whole ms (0 when it does not say: the Kafka read then starts at the beginning). */
function committedAtMs(fact: OutboxRow): number {
  const committedAt = decodeDomainEvent(fact.payload).committedAt;
  return committedAt ? Math.floor(timestampMs(committedAt)) : 0;
}
