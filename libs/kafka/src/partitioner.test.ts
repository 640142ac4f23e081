import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { murmur2, partitionAsGiven, partitionOfKey } from './partitioner';

const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer) => number;

/** A deterministic pseudo-random source, so a failure can be replayed. */
function randomSource(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % below;
  };
}

describe("Kafka's default partitioning in 32-bit arithmetic", () => {
  it("hashes as kafkajs' murmur2 for every length remainder, high bytes and multi-byte characters", () => {
    const random = randomSource(5);
    for (let round = 0; round < 2_000; round++) {
      const bytes = Buffer.from(Array.from({ length: random(40) }, () => random(256)));
      expect(murmur2(bytes)).toBe(kafkajsMurmur2(bytes));
    }
    // The Java client's value for a known key (Utils.murmur2("21".getBytes())).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
  });

  it("puts a key on the partition kafkajs' DefaultPartitioner gives it", () => {
    const random = randomSource(9);
    const partitioner = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 4, 16]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId): PartitionMetadata => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      for (let round = 0; round < 500; round++) {
        const key = `user-${Array.from({ length: random(12) }, () => 'a0é€𝄞'[random(5)]).join('')}`;
        expect(partitionOfKey(key, partitions)).toBe(partitioner({ topic: 't', partitionMetadata, message: { key, value: null } }));
      }
    }
  });

  it("sends a message to the partition its sender gave it, and refuses one without", () => {
    const partitioner = partitionAsGiven();
    expect(partitioner({ message: { partition: 3 } })).toBe(3);
    expect(partitioner({ message: { partition: 0 } })).toBe(0);
    expect(() => partitioner({ message: {} })).toThrow('without its partition');
  });
});
