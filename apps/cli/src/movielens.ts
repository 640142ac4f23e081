// MovieLens rating files → Orrery interactions, as pure functions over lines, so a bad file is
// refused with its line number before anything is sent. The three formats GroupLens ships:
//   u.data       (100K)  user<TAB>item<TAB>rating<TAB>timestamp, no header
//   ratings.dat  (1M/10M) user::item::rating::timestamp, no header
//   ratings.csv  (20M/25M/latest) header userId,movieId,rating,timestamp
// Timestamps are Unix seconds; a rating becomes a RATING event carrying its value.
import { basename } from 'node:path';
import type { SyntheticEvent } from '@orrery/ml';

/** The MovieLens rating file formats. */
export type MovieLensFormat = 'u.data' | 'ratings.dat' | 'ratings.csv';

/** A refused line: `file:line: problem`. */
export class DatasetParseError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${source}:${line}: ${problem}`);
    this.name = 'DatasetParseError';
  }
}

const SEPARATOR: Record<MovieLensFormat, string> = { 'u.data': '\t', 'ratings.dat': '::', 'ratings.csv': ',' };
const SEPARATOR_NAME: Record<MovieLensFormat, string> = { 'u.data': 'tab', 'ratings.dat': '"::"', 'ratings.csv': 'comma' };
const CSV_HEADER = 'userId,movieId,rating,timestamp';

/** The format of a file from its name (u.data, *.dat, *.csv); throws naming the file otherwise. */
export function movieLensFormatOf(path: string): MovieLensFormat {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.data')) return 'u.data';
  if (name.endsWith('.dat')) return 'ratings.dat';
  if (name.endsWith('.csv')) return 'ratings.csv';
  throw new Error(`${path}: unknown rating file format (expected u.data, ratings.dat or ratings.csv)`);
}

/** One rating as a file states it: ids as written, the rating, and the time in Unix seconds. */
export interface RatingFields {
  readonly userId: string;
  readonly itemId: string;
  readonly rating: number;
  readonly seconds: number;
}

/**
 * Reads the fields of one line (1-based `lineNumber`) of a rating file: undefined for a blank line or
 * the csv header; throws a DatasetParseError naming the line otherwise.
 */
export function parseRatingFields(line: string, lineNumber: number, format: MovieLensFormat, source: string): RatingFields | undefined {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.trim() === '') return undefined;
  if (format === 'ratings.csv' && lineNumber === 1) {
    if (text.trim() === CSV_HEADER) return undefined;
    throw new DatasetParseError(source, lineNumber, `expected the header "${CSV_HEADER}", got "${truncate(text)}"`);
  }
  const fields = text.split(SEPARATOR[format]);
  if (fields.length !== 4) {
    throw new DatasetParseError(source, lineNumber, `expected 4 ${SEPARATOR_NAME[format]}-separated fields (user, item, rating, timestamp), got ${fields.length} in "${truncate(text)}"`);
  }
  const [userId, itemId, ratingText, timestampText] = fields.map((field) => field.trim()) as [string, string, string, string];
  if (userId === '') throw new DatasetParseError(source, lineNumber, 'user id is empty');
  if (itemId === '') throw new DatasetParseError(source, lineNumber, 'item id is empty');
  const rating = Number(ratingText);
  if (ratingText === '' || !Number.isFinite(rating) || rating < 0 || rating > 10) {
    throw new DatasetParseError(source, lineNumber, `rating must be a number from 0 to 10, got "${ratingText}"`);
  }
  const seconds = Number(timestampText);
  if (!/^\d+$/.test(timestampText) || !Number.isSafeInteger(seconds)) {
    throw new DatasetParseError(source, lineNumber, `timestamp must be whole Unix seconds, got "${timestampText}"`);
  }
  return { userId, itemId, rating, seconds };
}

/**
 * The RATING event of a rating: the rating as value, occurredAt = the file's time + `shiftMs`. Its id
 * is derived from the file's user, item and time (not the shifted time), so importing the same file
 * twice stores each rating once.
 */
export function ratingEvent(fields: RatingFields, shiftMs = 0): SyntheticEvent {
  const { userId, itemId, rating, seconds } = fields;
  return { eventId: `movielens:${userId}:${itemId}:${seconds}`, userId, itemId, type: 'RATING', value: rating, occurredAt: seconds * 1000 + shiftMs };
}

/**
 * Parses one line (1-based `lineNumber`) of a rating file: a RATING event with the rating as value
 * and occurredAt in epoch ms, undefined for a blank line or the csv header, or a DatasetParseError.
 */
export function parseRatingLine(line: string, lineNumber: number, format: MovieLensFormat, source: string): SyntheticEvent | undefined {
  const fields = parseRatingFields(line, lineNumber, format, source);
  return fields && ratingEvent(fields);
}

/** Parses a whole file's text (small files and tests; `orrery import` streams lines through parseRatingFields). */
export function parseRatings(text: string, format: MovieLensFormat, source: string): SyntheticEvent[] {
  const events: SyntheticEvent[] = [];
  text.split('\n').forEach((line, index) => {
    const event = parseRatingLine(line, index + 1, format, source);
    if (event) events.push(event);
  });
  return events;
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
