// kafkajs 2.2.4 encodes a Produce request through an Encoder per record and per header, each
// allocating a zeroed 512-byte buffer, and writes every varint through a new array and a new Buffer:
// ~15 µs of CPU per message on the 2-core VM (2,000 messages of ~200 bytes, a batch of the outbox
// relay), a third of the command's CPU per event. encodeProduceBody writes the same bytes in one pass
// into one buffer; repairProduceEncoding makes kafkajs use it (docs/benchmarks.md, "the relay's
// Produce requests").
import { repairProtocol } from './kafkajs-internals';

/** A message as kafkajs takes it in a Produce request (its `Message`, partitioned). */
export interface ProduceMessage {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: Readonly<Record<string, Buffer | string | readonly (Buffer | string)[] | undefined>>;
  readonly timestamp?: string;
}

/** What kafkajs hands its Produce request encoders (v3 to v7 share one body). */
export interface ProduceRequestArgs {
  readonly acks: number;
  readonly timeout: number;
  readonly compression?: number;
  readonly transactionalId?: string | null;
  /** A kafkajs Long, or a number. */
  readonly producerId?: unknown;
  readonly producerEpoch?: number;
  readonly topicData: readonly {
    readonly topic: string;
    readonly partitions: readonly { readonly partition: number; readonly firstSequence?: number; readonly messages: readonly ProduceMessage[] }[];
  }[];
}

/** kafkajs' Long (utils/long): what its encoder turns an int64 field into. */
interface KafkaLong {
  getHighBits(): number;
  getLowBits(): number;
}
const Long = require('kafkajs/src/utils/long') as { fromValue(value: unknown): KafkaLong };

const RECORD_BATCH_MAGIC = 2;
const TRANSACTIONAL_ATTRIBUTE = 16;
/** Bytes of a record batch from its attributes to its record count (what the CRC covers before the records). */
const BATCH_HEADER_BYTES = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;

/** The zigzag-encoded form of a 32-bit signed varint (Kafka's record fields). */
const zigzag = (value: number): number => ((value << 1) ^ (value >> 31)) >>> 0;

function unsignedVarIntSize(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value >>>= 7;
    bytes += 1;
  }
  return bytes;
}

const varIntSize = (value: number): number => unsignedVarIntSize(zigzag(value));

/** A header value or a record's key or value, as bytes (kafkajs writes a string as UTF-8), or null. */
type Bytes = Buffer | string | null;

/** The bytes of a nullable key or value, with its varint length, as kafkajs counts them. */
function varIntBytesSize(value: Bytes, length: number): number {
  return value === null ? varIntSize(-1) : varIntSize(length) + length;
}

const byteLength = (value: Buffer | string): number => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length);

/** A record header measured for writing. */
interface SizedHeader {
  readonly key: string;
  readonly keyLength: number;
  readonly value: Buffer | string;
  readonly valueLength: number;
}

/** A record's headers in kafkajs' order (per key, its value or each of its values), or undefined for a value that is neither bytes nor text. */
function sizeHeaders(headers: ProduceMessage['headers']): SizedHeader[] | undefined {
  const sized: SizedHeader[] = [];
  if (headers === undefined) return sized;
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    const values = Array.isArray(value) ? value : [value];
    for (const each of values) {
      if (typeof each !== 'string' && !Buffer.isBuffer(each)) return undefined;
      sized.push({ key, keyLength: Buffer.byteLength(key, 'utf8'), value: each, valueLength: byteLength(each) });
    }
  }
  return sized;
}

/** A message measured for writing: its parts and the size of its record body. */
interface SizedRecord {
  readonly key: Bytes;
  readonly keyLength: number;
  readonly value: Bytes;
  readonly valueLength: number;
  readonly headers: readonly SizedHeader[];
  /** Bytes after the record's own length varint. */
  readonly bodySize: number;
}

/** The message measured, or undefined for a shape this encoder leaves to kafkajs (a timestamp, a number as key…). */
function sizeRecord(message: ProduceMessage, offsetDelta: number): SizedRecord | undefined {
  if (message.timestamp != null) return undefined;
  const key = message.key ?? null;
  const value = message.value ?? null;
  if ((key !== null && typeof key !== 'string' && !Buffer.isBuffer(key)) || (value !== null && typeof value !== 'string' && !Buffer.isBuffer(value))) return undefined;
  const headers = sizeHeaders(message.headers);
  if (headers === undefined) return undefined;
  const keyLength = key === null ? 0 : byteLength(key);
  const valueLength = value === null ? 0 : byteLength(value);
  let bodySize =
    1 + // attributes
    1 + // timestamp delta 0, a varlong
    varIntSize(offsetDelta) +
    varIntBytesSize(key, keyLength) +
    varIntBytesSize(value, valueLength) +
    varIntSize(headers.length);
  for (const header of headers) bodySize += varIntSize(header.keyLength) + header.keyLength + varIntSize(header.valueLength) + header.valueLength;
  return { key, keyLength, value, valueLength, headers, bodySize };
}

/** Writes into one buffer, front to back. */
class Writer {
  offset = 0;
  constructor(readonly bytes: Buffer) {}

  int8(value: number): void {
    this.bytes.writeInt8(value, this.offset);
    this.offset += 1;
  }
  int16(value: number): void {
    this.bytes.writeInt16BE(value, this.offset);
    this.offset += 2;
  }
  int32(value: number): void {
    this.bytes.writeInt32BE(value, this.offset);
    this.offset += 4;
  }
  uint32(value: number): void {
    this.bytes.writeUInt32BE(value, this.offset);
    this.offset += 4;
  }
  int64(value: unknown): void {
    const long = Long.fromValue(value);
    this.int32(long.getHighBits());
    this.int32(long.getLowBits());
  }
  varInt(value: number): void {
    let unsigned = zigzag(value);
    while (unsigned >= 0x80) {
      this.bytes[this.offset++] = (unsigned & 0x7f) | 0x80;
      unsigned >>>= 7;
    }
    this.bytes[this.offset++] = unsigned;
  }
  /** A string with an int16 length (-1: null). */
  string(value: string | null): void {
    if (value === null) return this.int16(-1);
    const length = Buffer.byteLength(value, 'utf8');
    this.int16(length);
    this.raw(value, length);
  }
  /** Bytes already measured (`length`), without a length. */
  raw(value: Buffer | string, length: number): void {
    if (typeof value === 'string') this.bytes.write(value, this.offset, length, 'utf8');
    else value.copy(this.bytes, this.offset);
    this.offset += length;
  }
  /** Nullable bytes with a varint length. */
  varIntBytes(value: Bytes, length: number): void {
    if (value === null) return this.varInt(-1);
    this.varInt(length);
    this.raw(value, length);
  }
}

/**
 * The body of a Produce request (v3 to v7: transactional id, acks, timeout, then per topic and partition
 * one uncompressed record batch, magic 2) exactly as kafkajs 2.2.4 encodes it, with `nowMs` as the
 * batches' timestamp; undefined when a message has a shape this encoder leaves to kafkajs (a
 * timestamp of its own, a header without a value, a key that is neither bytes nor text) or the
 * request is compressed (or names a null compression or producer id, which kafkajs refuses).
 */
export function encodeProduceBody(args: ProduceRequestArgs, nowMs: number): Buffer | undefined {
  // kafkajs defaults only what is left out: a null compression or producer id is its to refuse.
  if ((args.compression !== undefined && args.compression !== 0) || args.producerId === null) return undefined;
  const topics: { topic: string; partitions: { partition: number; firstSequence: number; records: SizedRecord[]; recordsSize: number }[] }[] = [];
  const transactionalId = args.transactionalId ?? null;
  let size = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId, 'utf8')) + 2 + 4 + 4;
  for (const { topic, partitions } of args.topicData) {
    size += 2 + Buffer.byteLength(topic, 'utf8') + 4;
    const sized = [];
    for (const { partition, firstSequence, messages } of partitions) {
      const records: SizedRecord[] = [];
      let recordsSize = 0;
      for (let index = 0; index < messages.length; index++) {
        const record = sizeRecord(messages[index]!, index);
        if (record === undefined) return undefined;
        records.push(record);
        recordsSize += varIntSize(record.bodySize) + record.bodySize;
      }
      // partition, record set length; first offset, batch length, leader epoch, magic, CRC; the CRC'd part.
      size += 4 + 4 + 8 + 4 + 4 + 1 + 4 + BATCH_HEADER_BYTES + recordsSize;
      sized.push({ partition, firstSequence: firstSequence ?? 0, records, recordsSize });
    }
    topics.push({ topic, partitions: sized });
  }

  const writer = new Writer(Buffer.allocUnsafe(size));
  writer.string(transactionalId);
  writer.int16(args.acks);
  writer.int32(args.timeout);
  writer.int32(topics.length);
  for (const { topic, partitions } of topics) {
    writer.string(topic);
    writer.int32(partitions.length);
    for (const { partition, firstSequence, records, recordsSize } of partitions) {
      const batchLength = 4 + 1 + 4 + BATCH_HEADER_BYTES + recordsSize;
      writer.int32(partition);
      writer.int32(8 + 4 + batchLength);
      writer.int64(0); // first offset
      writer.int32(batchLength);
      writer.int32(0); // partition leader epoch
      writer.int8(RECORD_BATCH_MAGIC);
      const crcAt = writer.offset;
      writer.uint32(0);
      const checkedFrom = writer.offset;
      writer.int16(transactionalId ? TRANSACTIONAL_ATTRIBUTE : 0);
      writer.int32(records.length - 1); // last offset delta
      writer.int64(nowMs); // first timestamp
      writer.int64(nowMs); // max timestamp
      writer.int64(args.producerId ?? -1);
      writer.int16(args.producerEpoch ?? 0);
      writer.int32(firstSequence);
      writer.int32(records.length);
      for (let offsetDelta = 0; offsetDelta < records.length; offsetDelta++) {
        const record = records[offsetDelta]!;
        writer.varInt(record.bodySize);
        writer.int8(0); // attributes
        writer.int8(0); // timestamp delta
        writer.varInt(offsetDelta);
        writer.varIntBytes(record.key, record.keyLength);
        writer.varIntBytes(record.value, record.valueLength);
        writer.varInt(record.headers.length);
        for (const header of record.headers) {
          writer.varIntBytes(header.key, header.keyLength);
          writer.varIntBytes(header.value, header.valueLength);
        }
      }
      writer.bytes.writeUInt32BE(crc32c(writer.bytes, checkedFrom, writer.offset), crcAt);
    }
  }
  if (writer.offset !== size) throw new Error(`produce request: wrote ${writer.offset} bytes of ${size}`);
  return writer.bytes;
}

/** CRC-32C (Castagnoli, reflected 0x82F63B78) tables for slicing by 8. */
const CRC32C_TABLES: readonly Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    tables[0]![byte] = crc >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    for (let slice = 1; slice < 8; slice++) {
      const previous = tables[slice - 1]![byte]!;
      tables[slice]![byte] = (previous >>> 8) ^ tables[0]![previous & 0xff]!;
    }
  }
  return tables;
})();

/** CRC-32C of bytes[from, to), as Kafka's record batches carry it (unsigned). */
export function crc32c(bytes: Uint8Array, from = 0, to = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32C_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let crc = 0xffffffff;
  let at = from;
  for (; at + 8 <= to; at += 8) {
    const low = (crc ^ (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24))) >>> 0;
    crc =
      t7[low & 0xff]! ^
      t6[(low >>> 8) & 0xff]! ^
      t5[(low >>> 16) & 0xff]! ^
      t4[low >>> 24]! ^
      t3[bytes[at + 4]!]! ^
      t2[bytes[at + 5]!]! ^
      t1[bytes[at + 6]!]! ^
      t0[bytes[at + 7]!]!;
  }
  for (; at < to; at++) crc = (crc >>> 8) ^ t0[(crc ^ bytes[at]!) & 0xff]!;
  return (crc ^ 0xffffffff) >>> 0;
}

/** A Produce request as kafkajs builds it: its encoder, response decoder and parser. */
interface ProduceRequest {
  readonly request: { encode(): Promise<unknown> };
  readonly response: unknown;
}

/** Marks a protocol function that repairProduceEncoding installed. */
const REPAIRED = Symbol.for('orrery.produceEncoding');

/**
 * Makes every kafkajs client of this process encode Produce requests of version 3 and later with
 * encodeProduceBody (idempotent); a request it leaves undefined goes through kafkajs' own encoder.
 * The request keeps kafkajs' api key, version, name and response parser. Only kafkajs
 * REPAIRED_KAFKAJS_VERSION is touched: for another version it returns false and changes nothing.
 */
export function repairProduceEncoding(): boolean {
  return repairProtocol<ProduceRequestArgs, ProduceRequest>(
    'kafkajs/src/protocol/requests/produce',
    REPAIRED,
    (version) => version >= 3,
    (built, args) => {
      const Encoder = require('kafkajs/src/protocol/encoder') as new (initialSize: number) => { buf: Buffer; offset: number };
      const encode = async (): Promise<unknown> => {
        const body = encodeProduceBody(args, Date.now());
        if (body === undefined) return built.request.encode();
        // kafkajs' request framing takes an Encoder (it checks `buf` and reads `buffer`).
        const encoder = new Encoder(0);
        encoder.buf = body;
        encoder.offset = body.length;
        return encoder;
      };
      return { ...built, request: { ...built.request, encode } };
    },
  );
}
