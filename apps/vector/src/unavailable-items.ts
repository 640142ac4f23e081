// The items the vector service must not return although the champion's index holds them: hidden or
// deleted after the index was built (it is rebuilt only when another model is promoted).
import type { Pool } from 'pg';
import { latestCatalogSequence, readAvailabilityChanges, readUnavailableItemIds, type ServingIndex } from '@orrery/models';
import type { Logger } from '@orrery/telemetry';

export interface UnavailableItems {
  /** The hidden or deleted items among those `index` holds, as last read (usually none). */
  heldBy(index: ServingIndex): readonly string[];
  close(): void;
}

/**
 * Reads the hidden and deleted items now, then the catalog changes committed since every
 * `pollIntervalMs`; a failed read keeps what was read before and is logged. Throws when the first
 * read fails.
 */
export async function followUnavailableItems(pool: Pool, options: { readonly pollIntervalMs: number; readonly logger: Logger }): Promise<UnavailableItems> {
  // Read first: a change committed between the two reads is read again by the first poll, which changes nothing.
  let readThrough = await latestCatalogSequence(pool);
  const unavailable = await readUnavailableItemIds(pool);
  // Bumped on every change of `unavailable`, so the ids an index holds are worked out once per change.
  let generation = 0;
  let held: { readonly index: ServingIndex; readonly generation: number; readonly ids: readonly string[] } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const readChanges = async (): Promise<void> => {
    const changes = await readAvailabilityChanges(pool, readThrough);
    for (const { itemId, unavailable: gone, sequence } of changes) {
      if (gone) unavailable.add(itemId);
      else unavailable.delete(itemId);
      readThrough = sequence;
    }
    if (changes.length > 0) generation += 1;
  };
  const poll = (): void => {
    timer = setTimeout(() => {
      readChanges()
        .catch((error: unknown) => options.logger.warn({ err: error }, 'vector: could not read catalog changes; leaving out the hidden and deleted items read before'))
        .finally(() => {
          if (!closed) poll();
        });
    }, options.pollIntervalMs);
  };
  poll();

  return {
    heldBy: (index) => {
      if (held?.index !== index || held.generation !== generation) held = { index, generation, ids: [...unavailable].filter((itemId) => index.holds(itemId)) };
      return held.ids;
    },
    close: () => {
      closed = true;
      clearTimeout(timer);
    },
  };
}
