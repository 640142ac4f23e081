// Fetch responses (version 11, what kafkajs 2.2.4 asks brokers of Kafka 2.3 and later for) decoded in
// one pass, into the very objects kafkajs' own decoder makes. kafkajs makes a Decoder and a sliced
// Buffer per record, parses the batch's first offset and timestamp from text into a Long for every
// record, and builds each record's headers by spreading an object per header: ~8% of the projector's
// CPU under `bench ingest`. repairFetchDecoding makes kafkajs use this decoder
// (docs/benchmarks.md, "Fetch responses decoded in one pass").
import { repairProtocol } from './kafkajs-internals';

/** A record as kafkajs' consumer receives it (its `KafkaMessage`, with the fields the decoder adds). */
export interface FetchedRecord {
  readonly magicByte: number;
  readonly attributes: number;
  readonly timestamp: string;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer | null | (Buffer | null)[]>;
  readonly isControlRecord: boolean;
  readonly batchContext: BatchContext;
}

/** What every record of a record batch shares (kafkajs' `batchContext`). */
export interface BatchContext {
  readonly firstOffset: string;
  readonly firstTimestamp: string;
  readonly partitionLeaderEpoch: number;
  readonly inTransaction: boolean;
  readonly isControlBatch: boolean;
  readonly lastOffsetDelta: number;
  readonly producerId: string;
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly maxTimestamp: string;
  readonly timestampType: number;
  readonly magicByte: number;
}

/** A decoded Fetch v11 response, as kafkajs' `decode` returns it (before `parse` checks its error codes). */
export interface FetchResponse {
  readonly throttleTime: 0;
  readonly clientSideThrottleTime: number;
  readonly errorCode: number;
  readonly sessionId: number;
  readonly responses: {
    readonly topicName: string | null;
    readonly partitions: {
      readonly partition: number;
      readonly errorCode: number;
      readonly highWatermark: string;
      readonly lastStableOffset: string;
      readonly lastStartOffset: string;
      readonly abortedTransactions: { readonly producerId: string; readonly firstOffset: string }[];
      readonly preferredReadReplica: number;
      readonly messages: FetchedRecord[];
    }[];
  }[];
}

/** Thrown where this decoder leaves the response to kafkajs: legacy message sets, compression, and anything malformed that kafkajs handles. */
class LeftToKafkajs extends Error {}

/**
 * A Fetch response with a negative length (below -1, which is null) of a record batch, string or bytes:
 * kafkajs 2.2.4 reads such a response backwards, into wrong records or a loop that never ends (a
 * record batch read over and over; headers concatenated until the process hangs). The fetch fails
 * with this instead.
 */
export class MalformedFetchResponse extends Error {
  constructor(what: string) {
    super(`malformed Fetch v11 response: ${what}`);
    this.name = 'MalformedFetchResponse';
  }
}

const RECORD_BATCH_MAGIC = 2;
/** kafkajs reads another record batch only while this many bytes are left (its constant, compared with what is left before the batch's offset and length). */
const RECORD_BATCH_OVERHEAD = 49;
/** Where the magic byte sits in a record batch (and a legacy message set). */
const MAGIC_OFFSET = 16;
const COMPRESSION_CODEC_MASK = 0x07;
const TIMESTAMP_TYPE_FLAG_MASK = 0x08;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
/** kafkajs' TimestampTypes. */
const CREATE_TIME = 0;
const LOG_APPEND_TIME = 1;

/** Reads big-endian fields and Kafka varints from `buffer` up to `end`; a read past it is left to kafkajs. */
class Reader {
  constructor(
    readonly buffer: Buffer,
    public offset: number,
    public end: number,
  ) {}

  private need(bytes: number): number {
    const at = this.offset;
    // kafkajs moves its decoder back by a negative length (below -1, null) and reads on from there:
    // records decoded from the wrong bytes, or a header count read over and over until it hangs.
    if (bytes < 0) throw new MalformedFetchResponse(`a negative length (${bytes}) at byte ${at}`);
    if (at + bytes > this.end) throw new LeftToKafkajs('a field runs past its bounds');
    this.offset = at + bytes;
    return at;
  }

  int8(): number {
    return this.buffer.readInt8(this.need(1));
  }

  int16(): number {
    return this.buffer.readInt16BE(this.need(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.need(4));
  }

  int64(): bigint {
    return this.buffer.readBigInt64BE(this.need(8));
  }

  bytes(length: number): Buffer {
    const at = this.need(length);
    return this.buffer.subarray(at, at + length);
  }

  /** An ARRAY's int32 count (-1 is an empty one, as kafkajs reads it; kafkajs throws below that). */
  arrayLength(): number {
    return checkedCount(this.int32());
  }

  /** A STRING (int16 length, -1 for null). */
  string(): string | null {
    const length = this.int16();
    return length === -1 ? null : this.buffer.toString('utf8', this.need(length), this.offset);
  }

  /** A zigzag varint, with kafkajs' arithmetic (its 5th byte shifts into the sign as kafkajs' does). */
  varint(): number {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      if (shift > 28) throw new LeftToKafkajs('a varint longer than 5 bytes');
      byte = this.buffer[this.need(1)]!;
      result += (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80);
    return (result >>> 1) ^ -(result & 1);
  }

  /** A zigzag varlong: a number when it is a safe integer, else the exact bigint. */
  varlong(): number | bigint {
    let unsigned = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.buffer[this.need(1)]!;
      if (shift >= 49) return this.varlongTail(unsigned, byte, shift);
      unsigned += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte >= 0x80);
    return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
  }

  /** The rest of a varlong past 49 bits, as kafkajs' Long (a BigInt it does not wrap to 64 bits) computes it. */
  private varlongTail(low: number, firstByte: number, firstShift: number): bigint {
    let unsigned = BigInt(low);
    let shift = firstShift;
    let byte = firstByte;
    for (;;) {
      unsigned += BigInt(byte & 0x7f) << BigInt(shift);
      shift += 7;
      if (byte < 0x80) break;
      if (shift > 63) throw new LeftToKafkajs('a varlong longer than 10 bytes');
      byte = this.buffer[this.need(1)]!;
    }
    return (unsigned >> 1n) ^ -(unsigned & 1n);
  }

  /** VARINT bytes (-1 for null), a view of the response as kafkajs' are. */
  varintBytes(): Buffer | null {
    const length = this.varint();
    return length === -1 ? null : this.bytes(length);
  }
}

/** A count as kafkajs reads it: -1 is none, and below that kafkajs' `new Array` throws (left to it). */
function checkedCount(count: number): number {
  if (count < -1) throw new LeftToKafkajs('a count below -1');
  return Math.max(0, count);
}

/** `base + delta` as text (kafkajs adds Longs: BigInts, not wrapped to 64 bits). */
function sum64(base: bigint, baseNumber: number | undefined, delta: number | bigint): string {
  if (baseNumber !== undefined && typeof delta === 'number') {
    const sum = baseNumber + delta;
    if (Number.isSafeInteger(sum)) return String(sum);
  }
  return (base + BigInt(delta)).toString();
}

/** A bigint as a number when that is exact. */
function safeNumber(value: bigint): number | undefined {
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : undefined;
}

/** Header keys whose kafkajs result depends on Object.prototype (it reads `obj[key]` through it): left to kafkajs. */
const inheritedKey = (key: string): boolean => key in Object.prototype || key === '__proto__';

function decodeHeaders(reader: Reader): FetchedRecord['headers'] {
  const headers: FetchedRecord['headers'] = {};
  const count = checkedCount(reader.varint());
  for (let n = 0; n < count; n++) {
    const keyLength = reader.varint();
    if (keyLength === -1) throw new LeftToKafkajs('a null header key');
    const at = reader.offset;
    reader.bytes(keyLength);
    const key = reader.buffer.toString('utf8', at, at + keyLength);
    if (inheritedKey(key)) throw new LeftToKafkajs('a header key that Object.prototype holds');
    const value = reader.varintBytes();
    const earlier = headers[key];
    if (earlier === undefined) headers[key] = value;
    else if (Array.isArray(earlier)) earlier.push(value);
    else headers[key] = [earlier, value];
  }
  return headers;
}

/** The records of one uncompressed record batch, `reader` at its partition leader epoch and bounded by its end. */
function decodeRecordBatch(reader: Reader, firstOffset: bigint): FetchedRecord[] {
  const partitionLeaderEpoch = reader.int32();
  const magicByte = reader.int8();
  reader.int32(); // the CRC: kafkajs does not check it either
  const attributes = reader.int16();
  if ((attributes & COMPRESSION_CODEC_MASK) !== 0) throw new LeftToKafkajs('a compressed record batch');
  const lastOffsetDelta = reader.int32();
  const firstTimestamp = reader.int64();
  const maxTimestamp = reader.int64().toString();
  const producerId = reader.int64().toString();
  const producerEpoch = reader.int16();
  const firstSequence = reader.int32();
  const isControlBatch = (attributes & CONTROL_FLAG_MASK) > 0;
  const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME;
  const batchContext: BatchContext = {
    firstOffset: firstOffset.toString(),
    firstTimestamp: firstTimestamp.toString(),
    partitionLeaderEpoch,
    inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
    isControlBatch,
    lastOffsetDelta,
    producerId,
    producerEpoch,
    firstSequence,
    maxTimestamp,
    timestampType,
    magicByte,
  };
  const firstOffsetNumber = safeNumber(firstOffset);
  const firstTimestampNumber = safeNumber(firstTimestamp);
  // kafkajs takes the batch's maximum as every record's timestamp under LOG_APPEND_TIME (its text is never empty).
  const appendTime = timestampType === LOG_APPEND_TIME ? maxTimestamp : undefined;
  const count = reader.int32();
  if (count === -1) return [];
  if (count < 0) throw new LeftToKafkajs('a negative record count');
  const records: FetchedRecord[] = new Array(count);
  const batchEnd = reader.end;
  for (let n = 0; n < count; n++) {
    const length = reader.varint();
    if (length < 0) throw new LeftToKafkajs('a record without a length');
    const recordEnd = reader.offset + length;
    if (recordEnd > batchEnd) throw new LeftToKafkajs('a record past its batch');
    reader.end = recordEnd;
    const recordAttributes = reader.int8();
    const timestampDelta = reader.varlong();
    const offsetDelta = reader.varint();
    const key = reader.varintBytes();
    const value = reader.varintBytes();
    const headers = decodeHeaders(reader);
    records[n] = {
      magicByte,
      attributes: recordAttributes,
      timestamp: appendTime ?? sum64(firstTimestamp, firstTimestampNumber, timestampDelta),
      offset: sum64(firstOffset, firstOffsetNumber, offsetDelta),
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };
    // kafkajs decodes a record within its length and ignores what it leaves of it.
    reader.offset = recordEnd;
    reader.end = batchEnd;
  }
  return records;
}

/** A partition's record set: its record batches' records, up to a batch cut short by the fetch's size limit. */
function decodeRecordSet(reader: Reader): FetchedRecord[] {
  const size = reader.int32();
  if (size <= 0) return [];
  if (size <= MAGIC_OFFSET || reader.offset + size > reader.end) throw new LeftToKafkajs('a record set kafkajs reads another way');
  const setEnd = reader.offset + size;
  if (reader.buffer.readInt8(reader.offset + MAGIC_OFFSET) !== RECORD_BATCH_MAGIC) throw new LeftToKafkajs('a legacy message set');
  const records: FetchedRecord[] = [];
  const responseEnd = reader.end;
  reader.end = setEnd;
  while (setEnd - reader.offset >= RECORD_BATCH_OVERHEAD) {
    const firstOffset = reader.int64();
    const length = reader.int32();
    // kafkajs moves its decoder back by a negative length and reads the same bytes again, forever,
    // collecting their records until the process runs out of memory.
    if (length < 0) throw new MalformedFetchResponse(`a record batch of negative length (${length}) at byte ${reader.offset - 4}`);
    // The last batch may be cut short by the fetch's size limit: kafkajs stops there, and so does this.
    if (setEnd - reader.offset < length) break;
    const batchEnd = reader.offset + length;
    reader.end = batchEnd;
    for (const record of decodeRecordBatch(reader, firstOffset)) records.push(record);
    reader.offset = batchEnd;
    reader.end = setEnd;
  }
  reader.offset = setEnd;
  reader.end = responseEnd;
  return records;
}

/**
 * Decodes a Fetch v11 response body exactly as kafkajs 2.2.4's `fetch/v11/response` decode does, or
 * returns undefined where it leaves the response to kafkajs: a legacy message set, a compressed record
 * batch, a header key Object.prototype holds, or bytes kafkajs would read otherwise than the protocol
 * says (a field past its bounds, a count below -1). Throws MalformedFetchResponse for a negative
 * length of a record batch, string or bytes, which kafkajs would read backwards.
 */
export function decodeFetchV11Response(data: Buffer): FetchResponse | undefined {
  try {
    const reader = new Reader(data, 0, data.length);
    const clientSideThrottleTime = reader.int32();
    const errorCode = reader.int16();
    const sessionId = reader.int32();
    const topics = reader.arrayLength();
    const responses: FetchResponse['responses'][number][] = [];
    for (let t = 0; t < topics; t++) {
      const topicName = reader.string();
      const partitionCount = reader.arrayLength();
      const partitions: FetchResponse['responses'][number]['partitions'][number][] = [];
      for (let p = 0; p < partitionCount; p++) {
        const partition = reader.int32();
        const partitionError = reader.int16();
        const highWatermark = reader.int64().toString();
        const lastStableOffset = reader.int64().toString();
        const lastStartOffset = reader.int64().toString();
        const abortedCount = reader.arrayLength();
        const abortedTransactions: { producerId: string; firstOffset: string }[] = [];
        for (let a = 0; a < abortedCount; a++) abortedTransactions.push({ producerId: reader.int64().toString(), firstOffset: reader.int64().toString() });
        const preferredReadReplica = reader.int32();
        partitions.push({
          partition,
          errorCode: partitionError,
          highWatermark,
          lastStableOffset,
          lastStartOffset,
          abortedTransactions,
          preferredReadReplica,
          messages: decodeRecordSet(reader),
        });
      }
      responses.push({ topicName, partitions });
    }
    return { throttleTime: 0, clientSideThrottleTime, errorCode, sessionId, responses };
  } catch (error) {
    if (error instanceof LeftToKafkajs) return undefined;
    throw error;
  }
}

/** A Fetch request as kafkajs builds it: its encoder, timeout, and response decoder and parser. */
interface FetchRequest {
  readonly request: unknown;
  readonly response: { decode(data: Buffer): Promise<unknown>; readonly parse: unknown };
}

/** Marks a protocol function that repairFetchDecoding installed. */
const REPAIRED = Symbol.for('orrery.fetchDecoding');

/**
 * Makes every kafkajs client of this process decode Fetch v11 responses with decodeFetchV11Response
 * (idempotent); a response it leaves undefined goes through kafkajs' own decoder. The request, its
 * timeout and the response's parse (its error checks) stay kafkajs'. Only kafkajs
 * REPAIRED_KAFKAJS_VERSION is touched: for another version it returns false and changes nothing.
 */
export function repairFetchDecoding(): boolean {
  return repairProtocol<unknown, FetchRequest>(
    'kafkajs/src/protocol/requests/fetch',
    REPAIRED,
    (version) => version === 11,
    (built) => {
      const decode = async (data: Buffer): Promise<unknown> => decodeFetchV11Response(data) ?? built.response.decode(data);
      return { ...built, response: { ...built.response, decode } };
    },
  );
}
