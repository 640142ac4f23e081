// Data sets the cli sends through the public API: the synthetic generator's, or rating files
// imported from MovieLens. Reading is streamed line by line with a progress bar into a compact log
// (ids interned, one typed-array column per field), so the 10M–25M-rating files fit in memory;
// building the catalog, the users and the time-ordered events from it is pure.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SyntheticEvent, SyntheticItem, SyntheticUser } from '@orrery/ml';
import { movieLensFormatOf, parseRatingFields, ratingEvent } from './movielens';
import { ProgressBar } from './progress';

/** A catalog item as the ingestion API takes it (the generator's items are ones). */
export type DatasetItem = SyntheticItem;

/** A user as the ingestion API takes it (the generator's planted tastes are not sent). */
export type DatasetUser = Omit<SyntheticUser, 'favouriteCategories'>;

/**
 * Events in time order, read a slice at a time: an array, or a rating log's events made a batch at
 * a time (as objects, 25M ratings would not fit in Node's default heap).
 */
export interface EventSequence {
  readonly length: number;
  /** The events from `start` up to (not including) `end`. */
  slice(start: number, end: number): SyntheticEvent[];
}

/** Items, users and events (time-ordered) to send through ingestion; a SyntheticDataset is one. */
export interface Dataset {
  readonly items: readonly DatasetItem[];
  readonly users: readonly DatasetUser[];
  readonly events: EventSequence;
}

/** Every event of a data set as an array (for in-memory work such as `orrery eval`'s split). */
export function allEvents(dataset: Dataset): SyntheticEvent[] {
  return dataset.events.slice(0, dataset.events.length);
}

/** The ratings of a file, in file order: user and item ids interned, each field in a typed array. */
export interface RatingLog {
  readonly length: number;
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  /** Index into userIds of each rating. */
  readonly users: Int32Array;
  /** Index into itemIds of each rating. */
  readonly items: Int32Array;
  readonly ratings: Float64Array;
  /** Unix seconds, as in the file. */
  readonly seconds: Float64Array;
}

/** Appends ratings into typed arrays that grow by doubling. */
class RatingLogBuilder {
  private length = 0;
  private users = new Int32Array(1_024);
  private items = new Int32Array(1_024);
  private ratings = new Float64Array(1_024);
  private seconds = new Float64Array(1_024);
  private readonly userIds: string[] = [];
  private readonly itemIds: string[] = [];
  private readonly userIndex = new Map<string, number>();
  private readonly itemIndex = new Map<string, number>();

  add(userId: string, itemId: string, rating: number, seconds: number): void {
    if (this.length === this.users.length) this.grow();
    this.users[this.length] = intern(userId, this.userIndex, this.userIds);
    this.items[this.length] = intern(itemId, this.itemIndex, this.itemIds);
    this.ratings[this.length] = rating;
    this.seconds[this.length] = seconds;
    this.length++;
  }

  build(): RatingLog {
    const n = this.length;
    return { length: n, userIds: this.userIds, itemIds: this.itemIds, users: this.users.slice(0, n), items: this.items.slice(0, n), ratings: this.ratings.slice(0, n), seconds: this.seconds.slice(0, n) };
  }

  private grow(): void {
    const capacity = this.users.length * 2;
    const grown = <T extends Int32Array | Float64Array>(old: T, make: (size: number) => T): T => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    this.users = grown(this.users, (size) => new Int32Array(size));
    this.items = grown(this.items, (size) => new Int32Array(size));
    this.ratings = grown(this.ratings, (size) => new Float64Array(size));
    this.seconds = grown(this.seconds, (size) => new Float64Array(size));
  }
}

function intern(id: string, index: Map<string, number>, ids: string[]): number {
  let at = index.get(id);
  if (at === undefined) {
    at = ids.length;
    ids.push(id);
    index.set(id, at);
  }
  return at;
}

/**
 * A dataset from a rating log (rating files carry no catalog): one visible, uncategorised item per
 * item id, published at its first rating, and one user per user id; events sorted by time (ties in
 * file order). `newestAt` (epoch ms) shifts every time by one offset so the newest lands there,
 * keeping gaps: ingestion refuses events before 2000 and trending decays from now, so old logs are
 * replayed as recent. Event objects are made only when a slice is read.
 */
export function datasetFromRatings(log: RatingLog, options: { readonly newestAt?: number } = {}): Dataset {
  const order = new Uint32Array(log.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const { seconds } = log;
  order.sort((a, b) => seconds[a]! - seconds[b]! || a - b);
  let newestMs = -Infinity;
  for (let i = 0; i < seconds.length; i++) newestMs = Math.max(newestMs, seconds[i]! * 1000);
  const shiftMs = options.newestAt === undefined || !Number.isFinite(newestMs) ? 0 : options.newestAt - newestMs;

  const published = new Float64Array(log.itemIds.length).fill(NaN);
  const itemsInOrder: number[] = [];
  const userSeen = new Uint8Array(log.userIds.length);
  const usersInOrder: number[] = [];
  for (const at of order) {
    const item = log.items[at]!;
    if (Number.isNaN(published[item]!)) {
      published[item] = seconds[at]! * 1000 + shiftMs;
      itemsInOrder.push(item);
    }
    const user = log.users[at]!;
    if (userSeen[user] === 0) {
      userSeen[user] = 1;
      usersInOrder.push(user);
    }
  }
  const eventAt = (position: number): SyntheticEvent => {
    const at = order[position]!;
    return ratingEvent({ userId: log.userIds[log.users[at]!]!, itemId: log.itemIds[log.items[at]!]!, rating: log.ratings[at]!, seconds: seconds[at]! }, shiftMs);
  };
  return {
    items: itemsInOrder.map((item) => ({ itemId: log.itemIds[item]!, categories: [], tags: [], hidden: false, publishedAt: published[item]! })),
    users: usersInOrder.map((user) => ({ userId: log.userIds[user]!, attributes: {} })),
    events: {
      length: log.length,
      slice: (start, end) => {
        const from = Math.max(0, start);
        const to = Math.min(log.length, end);
        return Array.from({ length: Math.max(0, to - from) }, (_, offset) => eventAt(from + offset));
      },
    },
  };
}

/** Reads a MovieLens rating file (format from its name), streaming; throws DatasetParseError with the line number. */
export async function readRatingFile(path: string, options: { readonly progress: boolean }): Promise<RatingLog> {
  const format = movieLensFormatOf(path);
  const bytes = statSync(path).size;
  const bar = new ProgressBar('reading', bytes);
  const log = new RatingLogBuilder();
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  let ratings = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      const fields = parseRatingFields(line, lineNumber, format, path);
      if (fields) {
        log.add(fields.userId, fields.itemId, fields.rating, fields.seconds);
        ratings++;
      }
      if (options.progress && lineNumber % 10_000 === 0) bar.update(Math.min(bytes, stream.bytesRead));
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  if (options.progress) bar.update(bytes);
  if (ratings === 0) throw new Error(`${path}: no ratings found`);
  return log.build();
}

/** The earliest occurred_at ingestion accepts (apps/ingestion validation.ts LIMITS.earliestMs). */
export const INGESTION_EARLIEST_MS = Date.UTC(2000, 0, 1);

/**
 * Throws, naming `source`, when the data set's oldest event is before INGESTION_EARLIEST_MS: ingestion
 * would refuse it after the catalog and users had been sent. `shifted` says whether the times were
 * moved to end now (a log spanning more years than have passed since 2000 cannot be).
 */
export function checkIngestibleTimes(dataset: Dataset, source: string, shifted: boolean): void {
  const { events } = dataset;
  const oldest = events.slice(0, 1)[0];
  const newest = events.slice(events.length - 1, events.length)[0];
  if (!oldest || !newest || oldest.occurredAt >= INGESTION_EARLIEST_MS) return;
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const years = (ms: number): string => (ms / (365.25 * 86_400_000)).toFixed(1);
  throw new Error(
    shifted
      ? `${source}: its ratings span ${years(newest.occurredAt - oldest.occurredAt)} years, so shifted to end now they would start on ${day(oldest.occurredAt)}, and ingestion refuses events before ${day(INGESTION_EARLIEST_MS)} (at most ${years(newest.occurredAt - INGESTION_EARLIEST_MS)} years fit); nothing was sent`
      : `${source}: its oldest rating is on ${day(oldest.occurredAt)}, and ingestion refuses events before ${day(INGESTION_EARLIEST_MS)} (without --keep-timestamps the ratings are shifted to end now); nothing was sent`,
  );
}
