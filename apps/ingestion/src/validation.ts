// Validation and normalisation of what clients send, as pure functions over protobuf messages.
// Every refusal names the field (`events[3].type: must be specified`), so a client can fix it.
import { create } from '@bufbuild/protobuf';
import { timestampFromMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { characterCount, idProblem } from '@orrery/grpc';
import { EventSchema, EventType, EventTypeSchema, ItemSchema, UserSchema, type Event, type Item, type User } from '@orrery/proto';
import { MAX_TRACEPARENT_BYTES } from '@orrery/zmq';

/** The bounds ingestion enforces. */
export const LIMITS = {
  /** Characters of an event, user or item id. */
  idLength: 256,
  /** Characters of a category, tag or map key. */
  labelLength: 128,
  /** Categories or tags of an item. */
  labels: 32,
  /** Entries of a context or attributes map. */
  mapEntries: 64,
  /** Characters of a context or attribute value. */
  mapValueLength: 1024,
  /** Characters of all keys and values of one context or attributes map together. */
  mapCharacters: 16_384,
  /** Entries of one batch. */
  batch: 10_000,
  /** Characters of one of a batch's traceparents: what a ZeroMQ request's traceparent frame may hold. */
  traceparentLength: MAX_TRACEPARENT_BYTES,
  /** Events of one TrackStream (bounds the reply, which lists every refused one). */
  stream: 100_000,
  /** How far in the future occurred_at may be (clock skew), in ms. */
  futureMs: 24 * 60 * 60 * 1000,
  /** The earliest occurred_at accepted. */
  earliestMs: Date.UTC(2000, 0, 1),
  /** The range of an item's published_at. */
  publishedRangeMs: [Date.UTC(1900, 0, 1), Date.UTC(2200, 0, 1)],
} as const;

/** A refused field and why. */
export interface FieldError {
  readonly field: string;
  readonly problem: string;
}

/** A normalised value, or the first problem found. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: FieldError };

/** What normalisation fills in: the clock (epoch ms) and the id generator. */
export interface Defaults {
  readonly now: number;
  readonly newEventId: () => string;
}

/** One refused entry of a batch. */
export interface Rejection {
  readonly index: number;
  readonly reason: string;
}

/** The valid (normalised) entries of a batch, and the refused ones by index. */
export interface SplitBatch<T> {
  readonly valid: T[];
  readonly rejected: Rejection[];
}

/** `field: problem`, the message clients see. */
export function describeFieldError(error: FieldError): string {
  return `${error.field}: ${error.problem}`;
}

/** Refuses batches above LIMITS.batch entries (`events: at most 10000 per batch`). */
export function checkBatchSize(count: number, field: string): FieldError | undefined {
  return count > LIMITS.batch ? { field, problem: `at most ${LIMITS.batch} per batch` } : undefined;
}

/**
 * Refuses a batch's traceparents unless there are none or one per event, each at most
 * LIMITS.traceparentLength characters (stored with its event, they are not parsed here: one the
 * W3C propagator cannot read starts no trace further on).
 */
export function checkTraceparents(traceparents: readonly string[], eventCount: number): FieldError | undefined {
  if (traceparents.length > 0 && traceparents.length !== eventCount) {
    return { field: 'traceparents', problem: `${traceparents.length} for ${eventCount} events (none, or one per event)` };
  }
  const tooLong = traceparents.findIndex((traceparent) => traceparent.length > LIMITS.traceparentLength);
  return tooLong < 0 ? undefined : { field: `traceparents[${tooLong}]`, problem: `at most ${LIMITS.traceparentLength} characters` };
}

/** Refuses an id (item_id, user_id of a catalog command) that is empty, too long, blank or has control characters. */
export function checkId(value: string, field: string): FieldError | undefined {
  return at(field, idProblem(value, LIMITS.idLength));
}

/** Validates every entry at `field[index]`; the valid ones come back normalised, in order. */
export function splitBatch<I, T>(entries: readonly I[], field: string, validate: (entry: I, path: string) => Checked<T>): SplitBatch<T> {
  const valid: T[] = [];
  const rejected: Rejection[] = [];
  entries.forEach((entry, index) => {
    const checked = validate(entry, `${field}[${index}]`);
    if (checked.ok) valid.push(checked.value);
    else rejected.push({ index, reason: describeFieldError(checked.error) });
  });
  return { valid, rejected };
}

/**
 * Validates one interaction at `field` and normalises it: event_id generated when empty,
 * occurred_at defaulted to now, unknown fields dropped.
 */
export function validateEvent(event: Event | undefined, field: string, defaults: Defaults): Checked<Event> {
  if (!event) return refuse(field, 'must be set');
  const problem =
    (event.eventId === '' ? undefined : at(`${field}.event_id`, idProblem(event.eventId, LIMITS.idLength))) ??
    at(`${field}.user_id`, idProblem(event.userId, LIMITS.idLength)) ??
    at(`${field}.item_id`, idProblem(event.itemId, LIMITS.idLength)) ??
    at(`${field}.type`, eventTypeProblem(event.type)) ??
    at(`${field}.value`, Number.isFinite(event.value) ? undefined : 'must be a finite number') ??
    at(`${field}.occurred_at`, event.occurredAt ? occurredAtProblem(event.occurredAt, defaults.now) : undefined) ??
    mapProblem(event.context, `${field}.context`);
  if (problem) return { ok: false, error: problem };
  return {
    ok: true,
    value: create(EventSchema, {
      eventId: event.eventId === '' ? defaults.newEventId() : event.eventId,
      userId: event.userId,
      itemId: event.itemId,
      type: event.type,
      value: event.value,
      occurredAt: event.occurredAt ? { seconds: event.occurredAt.seconds, nanos: event.occurredAt.nanos } : timestampFromMs(defaults.now),
      context: { ...event.context },
    }),
  };
}

/** Validates one catalog item at `field`; unknown fields are dropped. */
export function validateItem(item: Item, field: string): Checked<Item> {
  const problem =
    at(`${field}.item_id`, idProblem(item.itemId, LIMITS.idLength)) ??
    labelsProblem(item.categories, `${field}.categories`) ??
    labelsProblem(item.tags, `${field}.tags`) ??
    mapProblem(item.attributes, `${field}.attributes`) ??
    at(`${field}.published_at`, item.publishedAt ? publishedAtProblem(item.publishedAt) : undefined);
  if (problem) return { ok: false, error: problem };
  return {
    ok: true,
    value: create(ItemSchema, {
      itemId: item.itemId,
      categories: [...item.categories],
      tags: [...item.tags],
      attributes: { ...item.attributes },
      publishedAt: item.publishedAt ? { seconds: item.publishedAt.seconds, nanos: item.publishedAt.nanos } : undefined,
      hidden: item.hidden,
    }),
  };
}

/** Validates one user at `field`; unknown fields are dropped. */
export function validateUser(user: User, field: string): Checked<User> {
  const problem = at(`${field}.user_id`, idProblem(user.userId, LIMITS.idLength)) ?? mapProblem(user.attributes, `${field}.attributes`);
  if (problem) return { ok: false, error: problem };
  return { ok: true, value: create(UserSchema, { userId: user.userId, attributes: { ...user.attributes } }) };
}

// Values may be prose: tab and line breaks are fine; NUL and the rest are not (Postgres refuses NUL).
const CONTROL_EXCEPT_WHITESPACE = /[^\P{Cc}\t\n\r]/u;

function eventTypeProblem(type: EventType): string | undefined {
  if (type === EventType.UNSPECIFIED) return 'must be specified';
  if (!EventTypeSchema.values.some((known) => known.number === type)) return `unknown event type ${type}`;
  return undefined;
}

function occurredAtProblem(timestamp: Timestamp, now: number): string | undefined {
  const invalid = timestampProblem(timestamp);
  if (invalid) return invalid;
  const ms = epochMs(timestamp);
  if (ms < LIMITS.earliestMs) return 'must not be before 2000-01-01';
  if (ms > now + LIMITS.futureMs) return 'must not be more than 1 day in the future';
  return undefined;
}

function publishedAtProblem(timestamp: Timestamp): string | undefined {
  const invalid = timestampProblem(timestamp);
  if (invalid) return invalid;
  const ms = epochMs(timestamp);
  const [earliest, latest] = LIMITS.publishedRangeMs;
  if (ms < earliest || ms >= latest) return 'must be between 1900-01-01 and 2200-01-01';
  return undefined;
}

// The range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

function timestampProblem(timestamp: Timestamp): string | undefined {
  if (!Number.isInteger(timestamp.nanos) || timestamp.nanos < 0 || timestamp.nanos > 999_999_999) return 'nanos must be within 0..999999999';
  if (timestamp.seconds < MIN_SECONDS || timestamp.seconds > MAX_SECONDS) return 'must be between years 1 and 9999';
  return undefined;
}

function epochMs(timestamp: Timestamp): number {
  return Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000);
}

function labelsProblem(labels: readonly string[], field: string): FieldError | undefined {
  if (labels.length > LIMITS.labels) return { field, problem: `at most ${LIMITS.labels} entries` };
  for (const [index, label] of labels.entries()) {
    const problem = at(`${field}[${index}]`, idProblem(label, LIMITS.labelLength));
    if (problem) return problem;
    // The projector counts an interaction once per listed category (the user's affinity, the
    // category's trending score): a repeated one would weigh the item twice, so it is refused.
    const first = labels.indexOf(label);
    if (first < index) return { field: `${field}[${index}]`, problem: `repeats ${field}[${first}]` };
  }
  return undefined;
}

function mapProblem(map: Readonly<Record<string, string>>, field: string): FieldError | undefined {
  const entries = Object.entries(map);
  if (entries.length > LIMITS.mapEntries) return { field, problem: `at most ${LIMITS.mapEntries} entries` };
  let total = 0;
  for (const [key, value] of entries) {
    total += characterCount(key) + characterCount(value);
    if (total > LIMITS.mapCharacters) return { field, problem: `at most ${LIMITS.mapCharacters} characters of keys and values in total` };
    const keyProblem = idProblem(key, LIMITS.labelLength);
    const entry = `${field}[${JSON.stringify(characterCount(key) > 64 ? `${[...key].slice(0, 64).join('')}…` : key)}]`;
    if (keyProblem) return { field: entry, problem: `key ${keyProblem}` };
    if (characterCount(value) > LIMITS.mapValueLength) return { field: entry, problem: `value must be at most ${LIMITS.mapValueLength} characters` };
    if (CONTROL_EXCEPT_WHITESPACE.test(value)) return { field: entry, problem: 'value must not contain control characters other than tab and line breaks' };
  }
  return undefined;
}

function at(field: string, problem: string | undefined): FieldError | undefined {
  return problem === undefined ? undefined : { field, problem };
}

function refuse(field: string, problem: string): Checked<never> {
  return { ok: false, error: { field, problem } };
}
