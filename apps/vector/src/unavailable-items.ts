// The items the vector service must not return although the champion's index holds them: hidden or
// deleted after the index was built (it is rebuilt only when another model is promoted).
import type { Pool } from 'pg';
import { readUnavailableItemIds } from '@orrery/models';
import type { Logger } from '@orrery/telemetry';

export interface UnavailableItems {
  /** The ids last read: hidden or deleted items. */
  current(): readonly string[];
  close(): void;
}

/**
 * Reads the hidden and deleted items now, then again every `pollIntervalMs`; a failed read keeps the
 * last answer and is logged. Throws when the first read fails.
 */
export async function followUnavailableItems(pool: Pool, options: { readonly pollIntervalMs: number; readonly logger: Logger }): Promise<UnavailableItems> {
  let ids: readonly string[] = [...(await readUnavailableItemIds(pool))];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const poll = (): void => {
    timer = setTimeout(() => {
      readUnavailableItemIds(pool).then(
        (read) => {
          ids = [...read];
        },
        (error: unknown) => options.logger.warn({ err: error }, 'vector: could not read hidden and deleted items; leaving out the ones read before'),
      ).finally(() => {
        if (!closed) poll();
      });
    }, options.pollIntervalMs);
  };
  poll();
  return {
    current: () => ids,
    close: () => {
      closed = true;
      clearTimeout(timer);
    },
  };
}
