// Redis keeps a sorted set of up to zset-max-listpack-entries members (default 128) as a listpack:
// compact, but every update scans it and parses each member's score from text. A co-visit set
// holds up to ORRERY_COVISIT_LIMIT members (default 100), and each interaction updates ~11 of them,
// so with Redis' default every co-visit set stays a listpack for good. Measured at 5,000 events/s
// (`orrery bench ingest --phases lag`): 36 µs per ZADD on those listpacks against 8 µs with the
// threshold at 32, and Redis' CPU per event 103 → 74 µs. The price is memory: a 100-member co-visit
// set takes ~10.6 KB as a skiplist against ~3.6 KB as a listpack. infra/local/stack.sh starts Redis
// with 32; the projector warns at start when the Redis it writes keeps co-visit sets as listpacks.
import type { RedisClient } from '@orrery/projections';
import type { Logger } from '@orrery/telemetry';

/** The zset-max-listpack-entries that infra/local/stack.sh gives Redis. */
export const RECOMMENDED_LISTPACK_ENTRIES = 32;

/** Why the Redis setting makes co-visit updates slow, or undefined when it does not. */
export function sortedSetEncodingWarning(listpackEntries: number, coVisitLimit: number): string | undefined {
  if (listpackEntries < coVisitLimit) return undefined;
  return (
    `Redis keeps sorted sets of up to ${listpackEntries} members as listpacks (zset-max-listpack-entries), ` +
    `and co-visit sets hold up to ${coVisitLimit} (ORRERY_COVISIT_LIMIT): every co-visit update scans a listpack, ` +
    `~4× the Redis CPU of a skiplist update. Set zset-max-listpack-entries to ${RECOMMENDED_LISTPACK_ENTRIES} ` +
    `(CONFIG SET or redis.conf) unless memory matters more: a 100-member co-visit set takes ~3× the memory as a skiplist.`
  );
}

/** Reads the setting from Redis and logs sortedSetEncodingWarning's warning; a Redis that refuses CONFIG (managed services) is left alone. */
export async function warnOnListpackCoVisits(redis: RedisClient, coVisitLimit: number, logger: Logger): Promise<void> {
  try {
    const reply = (await redis.config('GET', 'zset-max-listpack-entries')) as string[];
    const listpackEntries = Number(reply[1]);
    if (reply.length < 2 || !Number.isFinite(listpackEntries)) return;
    const warning = sortedSetEncodingWarning(listpackEntries, coVisitLimit);
    if (warning) logger.warn({ zsetMaxListpackEntries: listpackEntries, coVisitLimit }, warning);
  } catch (error) {
    logger.debug({ err: error }, 'could not read zset-max-listpack-entries from Redis');
  }
}
