import { crc32c, encodeProduceBody, repairProduceEncoding, type ProduceMessage, type ProduceRequestArgs } from './produce-encoding';

// kafkajs' own encoder of a Produce request body (v3; v4 to v7 reuse it) and CRC-32C, driven directly.
type Encoded = { buffer: Buffer; buf: Buffer };
const kafkajsProduceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: ProduceRequestArgs) => { encode(): Promise<Encoded> };
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (bytes: Buffer) => number;
const Long = require('kafkajs/src/utils/long') as { fromValue(value: unknown): unknown };
const produceProtocol = require('kafkajs/src/protocol/requests/produce') as {
  protocol: (selector: { version: number }) => (args: ProduceRequestArgs) => { request: { apiVersion: number; encode(): Promise<Encoded> } };
};

const NOW_MS = 1_795_000_000_123;

async function kafkajsBody(args: ProduceRequestArgs): Promise<Buffer> {
  const now = jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
  try {
    return (await kafkajsProduceV3(args).encode()).buffer;
  } finally {
    now.mockRestore();
  }
}

/** A deterministic pseudo-random source, so a failure can be replayed. */
function randomSource(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % below;
  };
}

function randomMessages(random: (below: number) => number, count: number): ProduceMessage[] {
  const text = (length: number): string => Array.from({ length }, () => 'aé€𝄞z'[random(5)]).join('');
  const bytes = (length: number): Buffer => Buffer.from(Array.from({ length }, () => random(256)));
  // Lengths around the varint steps (63/64 zigzagged, 8191/8192) and empty ones.
  const length = (): number => [0, 1, 63, 64, 200, 8_191, 8_192, 20_000][random(8)]!;
  return Array.from({ length: count }, (): ProduceMessage => {
    const kind = random(4);
    const headers: Record<string, Buffer | string | (Buffer | string)[]> = {};
    for (let header = random(4); header > 0; header--) headers[`h-${text(random(4))}`] = [text(random(40)), [bytes(random(10)), text(3)], []][random(3)]!;
    const key = [null, bytes(random(30)), `user-${text(random(12))}`, undefined][kind];
    return {
      // A key left out, as well as a null one; the relay's messages carry their partition.
      ...(key === undefined ? {} : { key }),
      value: kind === 3 ? null : random(2) ? bytes(length()) : text(random(300)),
      ...(random(2) ? { headers } : {}),
      ...(random(2) ? { partition: random(4) } : {}),
    };
  });
}

describe('Produce requests encoded in one pass', () => {
  it('writes exactly the bytes kafkajs writes, for mixed keys, values, headers, partitions and topics', async () => {
    const random = randomSource(7);
    for (let round = 0; round < 25; round++) {
      const args: ProduceRequestArgs = {
        acks: [-1, 0, 1][random(3)]!,
        timeout: 30_000,
        transactionalId: random(3) === 0 ? 'orrery-tx' : null,
        producerId: random(2) ? Long.fromValue(4_000_000_000 + random(1_000)) : 17,
        producerEpoch: random(5),
        topicData: Array.from({ length: 1 + random(2) }, (_, topic) => ({
          topic: `topic-${topic}-é`,
          partitions: Array.from({ length: 1 + random(4) }, (__, partition) => ({
            partition,
            firstSequence: random(100_000),
            messages: randomMessages(random, random(3) === 0 ? 0 : 1 + random(150)),
          })),
        })),
      };
      const expected = await kafkajsBody(args);
      expect(encodeProduceBody(args, NOW_MS)?.equals(expected)).toBe(true);
    }
  });

  it('leaves to kafkajs what it does not encode: compression, and messages with their own timestamp', () => {
    const messages = [{ key: 'k', value: 'v' }];
    const plain: ProduceRequestArgs = { acks: -1, timeout: 1_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }] };
    expect(encodeProduceBody(plain, NOW_MS)).toBeInstanceOf(Buffer);
    expect(encodeProduceBody({ ...plain, compression: 1 }, NOW_MS)).toBeUndefined();
    const stamped = [{ key: 'k', value: 'v', timestamp: '1795000000000' }];
    expect(encodeProduceBody({ ...plain, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: stamped }] }] }, NOW_MS)).toBeUndefined();
  });

  it("computes CRC-32C as Kafka's record batches carry it", () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const random = randomSource(11);
    for (const length of [0, 1, 7, 8, 9, 100, 4_099]) {
      const bytes = Buffer.from(Array.from({ length }, () => random(256)));
      expect(crc32c(bytes)).toBe(kafkajsCrc32c(bytes));
      expect(crc32c(Buffer.concat([Buffer.from('xyz'), bytes]), 3)).toBe(kafkajsCrc32c(bytes));
    }
  });

  it("once repaired, kafkajs still encodes what the one pass leaves to it: a compressed request, and versions before 3", async () => {
    expect(repairProduceEncoding()).toBe(true);
    const args: ProduceRequestArgs = { acks: -1, timeout: 1_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: randomMessages(randomSource(4), 20) }] }] };
    const gzip = 1;
    const now = jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
    try {
      const compressed = await produceProtocol.protocol({ version: 7 })({ ...args, compression: gzip }).request.encode();
      expect(compressed.buffer.equals((await kafkajsProduceV3({ ...args, compression: gzip }).encode()).buffer)).toBe(true);
      const kafkajsV2 = require('kafkajs/src/protocol/requests/produce/v2/request') as (args: ProduceRequestArgs) => { encode(): Promise<Encoded> };
      const v2 = await produceProtocol.protocol({ version: 2 })(args).request.encode();
      expect(v2.buffer.equals((await kafkajsV2(args).encode()).buffer)).toBe(true);
    } finally {
      now.mockRestore();
    }
  });

  it("once repaired, kafkajs' Produce requests of version 3 and later carry these bytes with their own version", async () => {
    expect(repairProduceEncoding()).toBe(true);
    expect(repairProduceEncoding()).toBe(true);
    const args: ProduceRequestArgs = { acks: -1, timeout: 1_000, topicData: [{ topic: 't', partitions: [{ partition: 2, messages: randomMessages(randomSource(3), 40) }] }] };
    for (const version of [3, 7]) {
      const { request } = produceProtocol.protocol({ version })(args);
      expect(request.apiVersion).toBe(version);
      const now = jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
      try {
        const encoded = await request.encode();
        expect(encoded.buffer.equals(encodeProduceBody(args, NOW_MS)!)).toBe(true);
        // The one-pass body itself, not a copy in kafkajs' own encoder (which grows a power-of-two buffer).
        expect(encoded.buf.length).toBe(encoded.buffer.length);
      } finally {
        now.mockRestore();
      }
    }
  });
});
