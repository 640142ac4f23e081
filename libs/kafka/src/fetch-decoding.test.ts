import { decodeFetchV11Response, MalformedFetchResponse, repairFetchDecoding } from './fetch-decoding';

// The oracle is kafkajs' own decoder of the same bytes.
const kafkajsV11 = require('kafkajs/src/protocol/requests/fetch/v11/response') as { decode(data: Buffer): Promise<unknown> };

/** Writes Kafka's wire types (big-endian fields, zigzag varints) into chunks. */
class Writer {
  private readonly chunks: Buffer[] = [];
  int8(value: number): this {
    const chunk = Buffer.alloc(1);
    chunk.writeInt8(value);
    return this.push(chunk);
  }
  int16(value: number): this {
    const chunk = Buffer.alloc(2);
    chunk.writeInt16BE(value);
    return this.push(chunk);
  }
  int32(value: number): this {
    const chunk = Buffer.alloc(4);
    chunk.writeInt32BE(value);
    return this.push(chunk);
  }
  int64(value: bigint): this {
    const chunk = Buffer.alloc(8);
    chunk.writeBigInt64BE(value);
    return this.push(chunk);
  }
  varlong(value: bigint): this {
    let unsigned = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    const bytes: number[] = [];
    do {
      const low = Number(unsigned & 0x7fn);
      unsigned >>= 7n;
      bytes.push(unsigned > 0n ? low | 0x80 : low);
    } while (unsigned > 0n);
    return this.push(Buffer.from(bytes));
  }
  varint(value: number): this {
    return this.varlong(BigInt(value));
  }
  string(value: string | null): this {
    return value === null ? this.int16(-1) : this.int16(Buffer.byteLength(value)).push(Buffer.from(value));
  }
  varintBytes(value: Buffer | null): this {
    return value === null ? this.varint(-1) : this.varint(value.length).push(value);
  }
  push(chunk: Buffer): this {
    this.chunks.push(chunk);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface TestRecord {
  attributes?: number;
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | null][];
  /** Bytes after the record's fields, within its length (kafkajs ignores them). */
  trailing?: Buffer;
  /** The timestamp delta's varlong bytes as given, instead of timestampDelta's. */
  rawTimestampDelta?: Buffer;
}

interface TestBatch {
  firstOffset: bigint;
  attributes: number;
  firstTimestamp: bigint;
  maxTimestamp: bigint;
  records: TestRecord[];
  /** Bytes after the records, within the batch's length. */
  trailing?: Buffer;
}

function record(entry: TestRecord): Buffer {
  const body = new Writer().int8(entry.attributes ?? 0);
  if (entry.rawTimestampDelta) body.push(entry.rawTimestampDelta);
  else body.varlong(entry.timestampDelta);
  body.varint(entry.offsetDelta).varintBytes(entry.key).varintBytes(entry.value).varint(entry.headers.length);
  for (const [key, value] of entry.headers) body.varint(Buffer.byteLength(key)).push(Buffer.from(key)).varintBytes(value);
  if (entry.trailing) body.push(entry.trailing);
  const bytes = body.done();
  return new Writer().varint(bytes.length).push(bytes).done();
}

function batch(entry: TestBatch): Buffer {
  const body = new Writer()
    .int32(7) // partition leader epoch
    .int8(2)
    .int32(0x1234abcd) // CRC, checked by neither decoder
    .int16(entry.attributes)
    .int32(Math.max(0, entry.records.length - 1))
    .int64(entry.firstTimestamp)
    .int64(entry.maxTimestamp)
    .int64(-1n)
    .int16(-1)
    .int32(-1)
    .int32(entry.records.length);
  for (const entryRecord of entry.records) body.push(record(entryRecord));
  if (entry.trailing) body.push(entry.trailing);
  const bytes = body.done();
  return new Writer().int64(entry.firstOffset).int32(bytes.length).push(bytes).done();
}

interface TestPartition {
  partition: number;
  records: Buffer;
  aborted?: [bigint, bigint][];
}

function fetchResponse(topics: [string, TestPartition[]][]): Buffer {
  const writer = new Writer().int32(0).int16(0).int32(123).int32(topics.length);
  for (const [topic, partitions] of topics) {
    writer.string(topic).int32(partitions.length);
    for (const partition of partitions) {
      writer.int32(partition.partition).int16(0).int64(1000n).int64(999n).int64(0n);
      writer.int32(partition.aborted?.length ?? 0);
      for (const [producerId, firstOffset] of partition.aborted ?? []) writer.int64(producerId).int64(firstOffset);
      writer.int32(-1).int32(partition.records.length).push(partition.records);
    }
  }
  return writer.done();
}

/** A deterministic pseudo-random source, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

type FetchProtocol = (selector: { version: number }) => (args: unknown) => { response: { decode(data: Buffer): Promise<unknown> } };
/** kafkajs' Fetch request builder, as it is now: repairFetchDecoding replaces it with one whose version 11 decodes with this decoder. */
const fetchProtocol: FetchProtocol = (selector) => (require('kafkajs/src/protocol/requests/fetch') as { protocol: FetchProtocol }).protocol(selector);
const fetchArgs = { maxWaitTime: 100, minBytes: 1, maxBytes: 1024, topics: [] };

type Settled = { value: unknown } | { error: unknown };
/** How a decoding ended: its value, or what it threw. */
const settle = (decoding: Promise<unknown>): Promise<Settled> => decoding.then((value) => ({ value }), (error: unknown) => ({ error }));
/** Its value, or only that it failed: a damaged response may fail in this decoder with another message than kafkajs'. */
const failedOrValue = (settled: Settled): { value: unknown } | { failed: true } => ('value' in settled ? settled : { failed: true });
function settleNow<T>(decode: () => T): { value: T } | { error: Error } {
  try {
    return { value: decode() };
  } catch (error) {
    return { error: error as Error };
  }
}

function randomRecords(next: () => number, count: number): TestRecord[] {
  const text = (length: number): string => Array.from({ length }, () => 'aé€😀-_x'[Math.floor(next() * 7)]).join('');
  const bytes = (): Buffer | null => (next() < 0.1 ? null : Buffer.from(text(Math.floor(next() * 40))));
  const deltas = [0n, 1n, -1n, 63n, 64n, -65n, 8191n, 8192n, -(2n ** 40n), 2n ** 31n, 2n ** 49n + 3n, -(2n ** 56n), 2n ** 62n];
  return Array.from({ length: count }, (_, n) => ({
    attributes: next() < 0.1 ? -3 : 0,
    timestampDelta: next() < 0.7 ? BigInt(Math.floor(next() * 5000)) : deltas[Math.floor(next() * deltas.length)]!,
    offsetDelta: next() < 0.9 ? n : Math.floor(next() * 2 ** 30),
    key: bytes(),
    value: bytes(),
    headers: Array.from({ length: Math.floor(next() * 4) }, () => [['traceparent', 'orrery-sequence', 'ключ', ''][Math.floor(next() * 4)]!, bytes()] as [string, Buffer | null]),
    ...(next() < 0.1 ? { trailing: Buffer.from([1, 2, 3]) } : {}),
  }));
}

describe('Fetch v11 responses decoded in one pass', () => {
  it('decodes exactly what kafkajs decodes, for random records, headers, offsets, timestamps and batch flags', async () => {
    const next = random(42);
    const offsets = [0n, 17n, 2n ** 40n, 2n ** 53n - 3n, 2n ** 62n];
    const timestamps = [1_795_000_000_000n, -1n, 0n, 2n ** 60n];
    // attributes: plain, LOG_APPEND_TIME, transactional, control, transactional control
    const flags = [0, 0x08, 0x10, 0x20, 0x30];
    for (let response = 0; response < 60; response++) {
      const topics: [string, TestPartition[]][] = Array.from({ length: 1 + Math.floor(next() * 2) }, (_, topic) => [
        `events-${topic}`,
        Array.from({ length: 1 + Math.floor(next() * 3) }, (_, partition) => ({
          partition,
          aborted: next() < 0.2 ? [[5n, 10n]] : [],
          records: Buffer.concat(
            Array.from({ length: Math.floor(next() * 3) }, () =>
              batch({
                firstOffset: offsets[Math.floor(next() * offsets.length)]!,
                attributes: flags[Math.floor(next() * flags.length)]!,
                firstTimestamp: timestamps[Math.floor(next() * timestamps.length)]!,
                maxTimestamp: 1_795_000_009_999n,
                records: randomRecords(next, Math.floor(next() * 20)),
                ...(next() < 0.1 ? { trailing: Buffer.from([9, 9]) } : {}),
              }),
            ),
          ),
        })),
      ]);
      const data = fetchResponse(topics);
      const decoded = decodeFetchV11Response(data);
      expect(decoded).toBeDefined();
      expect(decoded).toStrictEqual(await kafkajsV11.decode(data));
    }
  });

  it("reads a 10-byte varlong whose last byte overflows 64 bits as kafkajs' Long does: as a BigInt, not wrapped", async () => {
    const overflowing = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    const records = [{ timestampDelta: 0n, rawTimestampDelta: overflowing, offsetDelta: 0, key: null, value: null, headers: [] }];
    const data = fetchResponse([['events', [{ partition: 0, records: batch({ firstOffset: 0n, attributes: 0, firstTimestamp: 10n, maxTimestamp: 10n, records }) }]]]);
    const decoded = decodeFetchV11Response(data);
    expect(decoded?.responses[0]!.partitions[0]!.messages[0]!.timestamp).toBe(String(10n - 2n ** 69n));
    expect(decoded).toStrictEqual(await kafkajsV11.decode(data));
  });

  it("stops where kafkajs stops: at a record batch cut short by the fetch size, and at fewer bytes than a batch header, and goes on with the next partition", async () => {
    const records = randomRecords(random(7), 5);
    const whole = batch({ firstOffset: 100n, attributes: 0, firstTimestamp: 1_795_000_000_000n, maxTimestamp: 1_795_000_000_000n, records });
    for (const cut of [whole.length - 1, 60, 48, 12]) {
      // Each partition's record set is cut short on its own: the partition after a cut one is read from its own start.
      const cutShort = Buffer.concat([whole, whole.subarray(0, cut)]);
      const data = fetchResponse([['events', [{ partition: 0, records: cutShort }, { partition: 1, records: cutShort }]]]);
      const decoded = decodeFetchV11Response(data);
      expect(decoded?.responses[0]!.partitions.map(({ messages }) => messages.length)).toEqual([5, 5]);
      expect(decoded).toStrictEqual(await kafkajsV11.decode(data));
    }
    const empty = fetchResponse([['events', [{ partition: 0, records: Buffer.alloc(0) }]]]);
    expect(decodeFetchV11Response(empty)).toStrictEqual(await kafkajsV11.decode(empty));
  });

  it('reads a record batch whose record count is -1 as kafkajs does: as one without records, then goes on with the next batch', async () => {
    const records = randomRecords(random(13), 3);
    const noCount = batch({ firstOffset: 10n, attributes: 0, firstTimestamp: 1n, maxTimestamp: 1n, records: [] });
    // The record count is the batch's last 4 bytes when it holds no records.
    noCount.writeInt32BE(-1, noCount.length - 4);
    const data = fetchResponse([['events', [{ partition: 0, records: Buffer.concat([noCount, batch({ firstOffset: 20n, attributes: 0, firstTimestamp: 1n, maxTimestamp: 1n, records })]) }]]]);
    const decoded = decodeFetchV11Response(data);
    expect(decoded?.responses[0]!.partitions[0]!.messages.map(({ offset }) => offset)).toEqual(records.map(({ offsetDelta }) => String(20 + offsetDelta)));
    expect(decoded).toStrictEqual(await kafkajsV11.decode(data));
  });

  it('gives a header repeated under one key as an array, in order, null values included', () => {
    const data = fetchResponse([
      [
        'events',
        [
          {
            partition: 0,
            records: batch({
              firstOffset: 0n,
              attributes: 0,
              firstTimestamp: 0n,
              maxTimestamp: 0n,
              records: [{ timestampDelta: 0n, offsetDelta: 0, key: null, value: null, headers: [['a', Buffer.from('1')], ['b', null], ['a', null], ['a', Buffer.from('3')]] }],
            }),
          },
        ],
      ],
    ]);
    expect(decodeFetchV11Response(data)?.responses[0]!.partitions[0]!.messages[0]!.headers).toStrictEqual({ a: [Buffer.from('1'), null, Buffer.from('3')], b: null });
  });

  it('leaves to kafkajs a compressed batch, a legacy message set, a header key Object.prototype holds, and a record longer than its batch', () => {
    const plain = { firstOffset: 0n, attributes: 0, firstTimestamp: 0n, maxTimestamp: 0n, records: randomRecords(random(3), 2) };
    const respond = (records: Buffer): Buffer => fetchResponse([['events', [{ partition: 0, records }]]]);
    expect(decodeFetchV11Response(respond(batch(plain)))).toBeDefined();
    expect(decodeFetchV11Response(respond(batch({ ...plain, attributes: 1 })))).toBeUndefined();
    const legacy = batch(plain);
    legacy.writeInt8(1, 16);
    expect(decodeFetchV11Response(respond(legacy))).toBeUndefined();
    for (const key of ['constructor', '__proto__', 'toString']) {
      expect(decodeFetchV11Response(respond(batch({ ...plain, records: [{ ...plain.records[0]!, headers: [[key, null]] }] })))).toBeUndefined();
    }
    const overlong = batch({ ...plain, records: [{ timestampDelta: 0n, offsetDelta: 0, key: null, value: null, headers: [] }] });
    // The record's length (6, one varint byte right after the 61-byte batch header) claims 63, more than the batch holds.
    expect(overlong.readUInt8(61)).toBe(12);
    overlong.writeUInt8(0x7e, 61);
    expect(decodeFetchV11Response(respond(overlong))).toBeUndefined();
  });

  it('leaves to kafkajs a count below -1 (of topics, partitions, aborted transactions or headers), which kafkajs throws on', async () => {
    const header = (topics: number): Writer => new Writer().int32(0).int16(0).int32(0).int32(topics);
    const partitionHeader = (writer: Writer, aborted: number): Writer => writer.int32(0).int16(0).int64(0n).int64(0n).int64(0n).int32(aborted);
    const negativeHeaders = new Writer().int8(0).varint(0).varint(0).varint(-1).varint(-1).varint(-2).done();
    const withNegativeHeaders = batch({ firstOffset: 0n, attributes: 0, firstTimestamp: 0n, maxTimestamp: 0n, records: [] });
    const records = Buffer.concat([withNegativeHeaders.subarray(0, withNegativeHeaders.length - 4), new Writer().int32(1).varint(negativeHeaders.length).push(negativeHeaders).done()]);
    records.writeInt32BE(records.length - 12, 8);
    const cases = [
      header(-2).done(),
      header(1).string('a').int32(-2).done(),
      partitionHeader(header(1).string('a').int32(1), -2).int32(-1).int32(0).done(),
      partitionHeader(header(1).string('a').int32(1), 0).int32(-1).int32(records.length).push(records).done(),
    ];
    for (const data of cases) {
      expect(decodeFetchV11Response(data)).toBeUndefined();
      await expect(kafkajsV11.decode(data)).rejects.toThrow(RangeError);
    }
  });

  it('settles as kafkajs settles on damaged bytes: a response with bytes changed, cut short or lengthened decodes to the same objects, or fails where kafkajs fails', async () => {
    repairFetchDecoding();
    const repaired = fetchProtocol({ version: 11 })(fetchArgs).response;
    const next = random(1234);
    // Bytes a damaged length or count is likely to hold: zero, small, the sign bit, varint continuations.
    const likely = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0xfe, 0x40];
    const seen = { decodedByBoth: 0, decodedHere: 0, failedByBoth: 0, refusedHere: 0 };
    for (let trial = 0; trial < 400; trial++) {
      const base = fetchResponse([
        [
          'events',
          Array.from({ length: 1 + Math.floor(next() * 2) }, (_, partition) => ({
            partition,
            aborted: next() < 0.2 ? [[5n, 10n]] : [],
            records: Buffer.concat(
              Array.from({ length: 1 + Math.floor(next() * 2) }, () =>
                batch({ firstOffset: BigInt(Math.floor(next() * 1000)), attributes: next() < 0.2 ? 0x10 : 0, firstTimestamp: 1_795_000_000_000n, maxTimestamp: 1_795_000_000_999n, records: randomRecords(next, 1 + Math.floor(next() * 4)) }),
              ),
            ),
          })),
        ],
      ]);
      let damaged = Buffer.from(base);
      for (let change = 1 + Math.floor(next() * 3); change > 0; change--) {
        const at = Math.floor(next() * damaged.length);
        const kind = next();
        if (kind < 0.6) damaged[at] = next() < 0.5 ? likely[Math.floor(next() * likely.length)]! : Math.floor(next() * 256);
        else if (kind < 0.8) damaged = damaged.subarray(0, at);
        else damaged = Buffer.concat([damaged.subarray(0, at), Buffer.from([Math.floor(next() * 256)]), damaged.subarray(at)]);
      }
      const here = settleNow(() => decodeFetchV11Response(damaged));
      if ('error' in here) {
        // Only where kafkajs would never finish (so it is not asked): the fetch fails instead.
        expect(here.error).toBeInstanceOf(MalformedFetchResponse);
        await expect(repaired.decode(damaged)).rejects.toThrow(here.error);
        seen.refusedHere++;
        continue;
      }
      const expected = failedOrValue(await settle(kafkajsV11.decode(damaged)));
      expect(failedOrValue(await settle(repaired.decode(damaged)))).toStrictEqual(expected);
      if ('value' in expected) seen.decodedByBoth++;
      else seen.failedByBoth++;
      if (here.value !== undefined) seen.decodedHere++;
    }
    // Every outcome was exercised (seed 1234: 309 decoded, 45 failed by both, 46 refused here), and this decoder (not kafkajs behind it) answered for a good share of the decoded responses.
    expect(seen.failedByBoth).toBeGreaterThan(25);
    expect(seen.decodedByBoth).toBeGreaterThan(50);
    expect(seen.decodedHere).toBeGreaterThan(seen.decodedByBoth / 4);
    expect(seen.refusedHere).toBeGreaterThan(0);
  });

  it('fails a fetch with a negative length (of a record batch, a value, a header key), which kafkajs would read backwards, in a batch read forever or headers read until it hangs', async () => {
    repairFetchDecoding();
    const repaired = fetchProtocol({ version: 11 })(fetchArgs).response;
    const whole = batch({ firstOffset: 100n, attributes: 0, firstTimestamp: 1n, maxTimestamp: 1n, records: randomRecords(random(5), 3) });
    const negativeBatch = Buffer.from(whole);
    negativeBatch.writeInt32BE(-12, 8);
    const batchData = fetchResponse([['events', [{ partition: 0, records: Buffer.concat([whole, negativeBatch]) }]]]);
    expect(() => decodeFetchV11Response(batchData)).toThrow(new MalformedFetchResponse(`a record batch of negative length (-12) at byte ${batchData.length - whole.length + 8}`));
    await expect(repaired.decode(batchData)).rejects.toThrow(MalformedFetchResponse);
    const negativeValue = { timestampDelta: 0n, offsetDelta: 0, key: null, value: null, headers: [] };
    const withNegative = (entry: TestRecord): Buffer => fetchResponse([['events', [{ partition: 0, records: batch({ firstOffset: 0n, attributes: 0, firstTimestamp: 0n, maxTimestamp: 0n, records: [entry] }) }]]]);
    // A value of length -5 (zigzag 9), then a header key of length -3 (zigzag 5).
    for (const [entry, length] of [
      [{ ...negativeValue, rawTimestampDelta: Buffer.from([0, 0, 0, 9]) }, -5],
      [{ ...negativeValue, rawTimestampDelta: Buffer.from([0, 0, 1, 1, 2, 5]) }, -3],
    ] as const) {
      const data = withNegative(entry);
      expect(() => decodeFetchV11Response(data)).toThrow(new RegExp(`^malformed Fetch v11 response: a negative length \\(${length}\\) at byte \\d+$`));
      await expect(repaired.decode(data)).rejects.toThrow(MalformedFetchResponse);
    }
  });

  it("once repaired, kafkajs' Fetch v11 decode gives this decoder's answer, and kafkajs' own where it leaves one; other versions stay kafkajs'", async () => {
    expect(repairFetchDecoding()).toBe(true);
    expect(repairFetchDecoding()).toBe(true);
    const v11 = fetchProtocol({ version: 11 })(fetchArgs).response;
    const data = fetchResponse([['events', [{ partition: 3, records: batch({ firstOffset: 5n, attributes: 0, firstTimestamp: 1n, maxTimestamp: 1n, records: randomRecords(random(11), 4) }) }]]]);
    expect(v11.decode).not.toBe(kafkajsV11.decode);
    expect(await v11.decode(data)).toStrictEqual(decodeFetchV11Response(data));
    const legacy = Buffer.from(data);
    legacy.writeInt8(1, data.length - batch({ firstOffset: 5n, attributes: 0, firstTimestamp: 1n, maxTimestamp: 1n, records: randomRecords(random(11), 4) }).length + 16);
    expect(decodeFetchV11Response(legacy)).toBeUndefined();
    expect(await settle(v11.decode(legacy))).toStrictEqual(await settle(kafkajsV11.decode(legacy)));
    expect(fetchProtocol({ version: 10 })(fetchArgs).response.decode).toBe((require('kafkajs/src/protocol/requests/fetch/v10/response') as { decode: unknown }).decode);
  });
});
