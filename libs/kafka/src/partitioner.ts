// Where a keyed message goes: kafkajs' default partitioner (Java's murmur2 of the key, made positive,
// modulo the partition count), in 32-bit arithmetic. kafkajs computes murmur2 on 64-bit Long objects
// and filters the partition list on every call: ~6% of the command's CPU in a profile of bench ingest,
// where its relay placed each event so. Only the low 32 bits of each step reach the result, so
// Math.imul gives the same partitions (a test compares them with kafkajs' on random keys).

const SEED = 0x9747b28c;
const MIX = 0x5bd1e995;

/** Kafka's murmur2 of `bytes` as a signed 32-bit integer (Utils.murmur2 of the Java client). */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let hash = SEED ^ length;
  const whole = length & ~3;
  for (let at = 0; at < whole; at += 4) {
    let word = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
    word = Math.imul(word, MIX);
    word ^= word >>> 24;
    word = Math.imul(word, MIX);
    hash = Math.imul(hash, MIX) ^ word;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) hash ^= bytes[whole + 2]! << 16;
    if (tail >= 2) hash ^= bytes[whole + 1]! << 8;
    hash ^= bytes[whole]!;
    hash = Math.imul(hash, MIX);
  }
  hash ^= hash >>> 13;
  hash = Math.imul(hash, MIX);
  hash ^= hash >>> 15;
  return hash | 0;
}

/** The partition kafkajs' DefaultPartitioner gives a message keyed `key` (UTF-8) on a topic of `partitions` partitions. */
export function partitionOfKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

/**
 * A kafkajs partitioner for messages placed by their sender (the outbox relay sets every message's
 * partition with partitionOfKey): it returns the message's partition, where kafkajs' own partitioners
 * also filter the partition list on every call. A message without one is refused.
 */
export function partitionAsGiven(): (args: { message: { partition?: number } }) => number {
  return ({ message }) => {
    if (message.partition === undefined) throw new Error('a message sent without its partition (the sender places every message)');
    return message.partition;
  };
}
