// Data sets the cli sends through the public API: the synthetic generator's, or rating files
// imported from MovieLens. Reading is streamed line by line with a progress bar; building the
// catalog and users from events is pure.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { SyntheticEvent, SyntheticItem, SyntheticUser } from '@orrery/ml';
import { movieLensFormatOf, parseRatingLine } from './movielens';
import { ProgressBar } from './progress';

/** A catalog item as the ingestion API takes it (the generator's items are ones). */
export type DatasetItem = SyntheticItem;

/** A user as the ingestion API takes it (the generator's planted tastes are not sent). */
export type DatasetUser = Omit<SyntheticUser, 'favouriteCategories'>;

/** Items, users and events (time-ordered) to send through ingestion; a SyntheticDataset is one. */
export interface Dataset {
  readonly items: readonly DatasetItem[];
  readonly users: readonly DatasetUser[];
  readonly events: readonly SyntheticEvent[];
}

/**
 * A dataset from bare events (rating files carry no catalog): one visible, uncategorised item per
 * item id, published at its first event, and one user per user id; events sorted by time (stable).
 */
export function datasetFromEvents(events: readonly SyntheticEvent[]): Dataset {
  const sorted = [...events].sort((a, b) => a.occurredAt - b.occurredAt);
  const firstSeen = new Map<string, number>();
  const users = new Set<string>();
  for (const event of sorted) {
    if (!firstSeen.has(event.itemId)) firstSeen.set(event.itemId, event.occurredAt);
    users.add(event.userId);
  }
  return {
    items: [...firstSeen].map(([itemId, publishedAt]) => ({ itemId, categories: [], tags: [], hidden: false, publishedAt })),
    users: [...users].map((userId) => ({ userId, attributes: {} })),
    events: sorted,
  };
}

/** Reads a MovieLens rating file (format from its name), streaming; throws DatasetParseError with the line number. */
export async function readRatingFile(path: string, options: { readonly progress: boolean }): Promise<SyntheticEvent[]> {
  const format = movieLensFormatOf(path);
  const bytes = statSync(path).size;
  const bar = new ProgressBar('reading', bytes);
  const events: SyntheticEvent[] = [];
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber += 1;
      const event = parseRatingLine(line, lineNumber, format, path);
      if (event) events.push(event);
      if (options.progress && lineNumber % 10_000 === 0) bar.update(Math.min(bytes, stream.bytesRead));
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  if (options.progress) bar.update(bytes);
  if (events.length === 0) throw new Error(`${path}: no ratings found`);
  return events;
}
