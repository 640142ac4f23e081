// The read side of the Redis projections, used by query (its gRPC API) and by the recommender (in
// process, on the hot path). Each read is one round trip (commands sent back to back, or one read-only
// script where a read must filter atomically), and returns plain data with scores already decayed
// to the time of the read.
import type { OrreryConfig, ProjectionConfig } from '@orrery/config';
import { withReadSpan, type Logger } from '@orrery/telemetry';
import { EVENT_TYPE_NAMES } from './weights';
import { decayedValue, halfLifeMs } from './decay';
import { parseCatalogView, type CatalogView } from './catalog';
import { decodeRecentEntry, type RecentEntry } from './recent';
import { createRedis, luaScript, runScript, scanKeys, type RedisClient } from './redis';
import { CATALOG_CHANGES_FIELD, controlKeys, projectionKeys, recentListKeyPattern, userIdOfRecentListKey, versionPrefix, type ProjectionKeys } from './keys';
import { readProjectionVersion, watchProjectionVersion } from './versions';
import type { CoVisit } from './merge-co-visits';

/** What the read model knows about a user. */
export interface UserProjection {
  readonly known: boolean;
  /** Newest first. */
  readonly recent: readonly RecentEntry[];
  /** Most recent first. */
  readonly seenItemIds: readonly string[];
  readonly categoryAffinity: ReadonlyMap<string, number>;
  readonly eventCounts: ReadonlyMap<string, bigint>;
  /** When the latest interaction happened; undefined for an unknown user. */
  readonly lastActiveMs: number | undefined;
}

/** What the read model knows about an item. */
export interface ItemProjection {
  readonly itemId: string;
  readonly catalog: CatalogView | undefined;
  readonly popularity: number;
  readonly interactions: bigint;
  /** The catalog holds a deletion tombstone for it. */
  readonly deleted: boolean;
}

/** A ranked item with its decayed score. */
export interface RankedItem {
  readonly itemId: string;
  readonly score: number;
}

/** Reads the projections query serves. */
export interface ProjectionReader {
  user(userId: string, recentLimit: number): Promise<UserProjection>;
  /** Each source's co-visited items, best first, at most `countPerItem` each. */
  coVisits(itemIds: readonly string[], countPerItem: number): Promise<Map<string, CoVisit[]>>;
  /** The best `count` visible items of the overall ranking ('') or of one category. */
  trending(category: string, count: number): Promise<RankedItem[]>;
  /** The items in request order. */
  items(itemIds: readonly string[]): Promise<ItemProjection[]>;
  /** Each item's distinct users (HyperLogLog estimate), in request order: a read of its own, as only some callers show it. */
  uniqueUsers(itemIds: readonly string[]): Promise<number[]>;
  /** For each item, whether it is in the user's seen list. */
  seen(userId: string, itemIds: readonly string[]): Promise<boolean[]>;
  /**
   * Up to `limit` ids of users with a recent list in the version read, whichever Redis lists first (not
   * a uniform sample): e.g. users to warm a service up with.
   */
  usersWithHistory(limit: number): Promise<string[]>;
  /**
   * A token that moves whenever a catalog change (an item upserted or deleted) has been applied, or the
   * projection version switched: a reader that caches catalog facts drops them when it moves.
   */
  catalogChanges(): Promise<string>;
}

/**
 * Reads a trending ranking best first, skipping hidden items. The projector already keeps hidden
 * items out (atomically with the hidden set, in the same slot), so this only double-checks; paging
 * keeps it correct even if many were hidden. KEYS: ranking, hidden set. ARGV: count.
 */
const TRENDING_SCRIPT = luaScript(`
local want = tonumber(ARGV[1])
local page = want + 16
local out = {}
local start = 0
while #out < 2 * want do
  local rows = redis.call('ZREVRANGE', KEYS[1], start, start + page - 1, 'WITHSCORES')
  for j = 1, #rows, 2 do
    if #out >= 2 * want then break end
    if redis.call('SISMEMBER', KEYS[2], rows[j]) == 0 then
      out[#out + 1] = rows[j]
      out[#out + 1] = rows[j + 1]
    end
  end
  if #rows < 2 * page then break end
  start = start + page
end
return out
`);

/** Keys usersWithHistory looks at per Redis master at most: a read model's keys are mostly users' (a recent list among every five), so these hold thousands of recent lists. */
const USERS_SCAN_BOUND = 100_000;

/** The attributes of every read's span (withReadSpan: one span per read, not one per Redis command). */
const REDIS = { 'db.system.name': 'redis' } as const;

/** Extra co-visit rows read per item to make up for hidden ones filtered out. */
const COVISIT_SPARE = 4;

/**
 * A ProjectionReader over one ioredis client. `currentKeys` names the projection version to read (each
 * call reads one version, resolved when it starts); `now` is the clock scores are decayed to.
 */
export function redisProjectionReader(redis: RedisClient, currentKeys: () => ProjectionKeys, config: ProjectionConfig, now: () => number = Date.now): ProjectionReader {
  const trendingHalfLife = halfLifeMs(config.trendingHalfLifeHours);
  const affinityHalfLife = halfLifeMs(config.affinityHalfLifeHours);
  const coVisitHalfLife = halfLifeMs(config.coVisitHalfLifeHours);

  return {
    user: async (userId, recentLimit) => withReadSpan('redis read user', REDIS, async () => {
      const keys = currentKeys();
      const user = keys.user(userId);
      // Four plain commands, auto-pipelined into one write (the keys share the user's hash slot, so one
      // node). Redis spent ~33 µs on them at 500 Recommend/s against ~110 µs for the same
      // reads as one Lua script (docs/benchmarks.md), and the client about the same. They are not one snapshot: an
      // event applied between them shows in some lists only, which no caller can tell from an event
      // applied just after the read.
      const [recent, seen, affinity, stats] = await Promise.all([
        redis.lrange(user.recent, 0, recentLimit - 1),
        redis.lrange(user.seen, 0, -1),
        redis.zrevrange(user.affinity, 0, -1, 'WITHSCORES'),
        redis.hgetall(user.stats),
      ]);
      const at = now();
      const eventCounts = new Map<string, bigint>();
      for (const name of EVENT_TYPE_NAMES) {
        const count = stats[name];
        if (count !== undefined) eventCounts.set(name, BigInt(count));
      }
      const lastActive = stats['last_active'];
      return {
        known: Object.keys(stats).length > 0,
        recent: recent.map(decodeRecentEntry).filter((entry): entry is RecentEntry => entry !== undefined),
        seenItemIds: seen,
        categoryAffinity: new Map(pairs(affinity).map(({ member, score }) => [member, decayedValue(score, at, affinityHalfLife)])),
        eventCounts,
        lastActiveMs: lastActive ? Number(lastActive) : undefined,
      };
    }),

    coVisits: async (itemIds, countPerItem) => withReadSpan('redis read co-visits', { ...REDIS, 'orrery.keys': itemIds.length }, async () => {
      const keys = currentKeys();
      // A few spare rows per item, so filtering hidden/deleted items rarely leaves a list short.
      const lists = await Promise.all(itemIds.map((itemId) => redis.zrevrange(keys.item(itemId).coVisits, 0, countPerItem + COVISIT_SPARE - 1, 'WITHSCORES')));
      const at = now();
      const rows = itemIds.map((itemId, index) => ({ itemId, pairs: pairs(lists[index] ?? []) }));
      const members = [...new Set(rows.flatMap((row) => row.pairs.map((pair) => pair.member)))];
      // Usually empty; a second round trip only when there is something to check. A deleted item can
      // linger in a partner's capped co-visit set (see planItemDelete), so co-visits are filtered here.
      const flags = members.length === 0 ? [] : await redis.smismember(keys.trending.hidden, ...members);
      const hidden = new Set(members.filter((_, index) => flags[index] === 1));
      return new Map(
        rows.map(({ itemId, pairs: found }) => [
          itemId,
          found
            .filter(({ member }) => !hidden.has(member))
            .slice(0, countPerItem)
            .map(({ member, score }) => ({ itemId: member, score: decayedValue(score, at, coVisitHalfLife) })),
        ]),
      );
    }),

    trending: async (category, count) => withReadSpan('redis read trending', { ...REDIS, 'orrery.category': category }, async () => {
      const keys = currentKeys();
      const ranking = category ? keys.trending.category(category) : keys.trending.overall;
      const rows = (await runScript(redis, TRENDING_SCRIPT, [ranking, keys.trending.hidden], [count])) as string[];
      const at = now();
      return pairs(rows).map(({ member, score }) => ({ itemId: member, score: decayedValue(score, at, trendingHalfLife) }));
    }),

    items: async (itemIds) => withReadSpan('redis read items', { ...REDIS, 'orrery.keys': itemIds.length }, async () => {
      const keys = currentKeys();
      const [catalogs, stats] = await Promise.all([
        Promise.all(itemIds.map((itemId) => redis.hgetall(keys.item(itemId).catalog))),
        Promise.all(itemIds.map((itemId) => redis.hmget(keys.item(itemId).stats, 'n', 'pop'))),
      ]);
      const at = now();
      return itemIds.map((itemId, index) => {
        const [count, popularity] = stats[index] ?? [];
        const fields = catalogs[index] ?? {};
        return {
          itemId,
          catalog: parseCatalogView(fields),
          popularity: popularity ? decayedValue(Number(popularity), at, trendingHalfLife) : 0,
          interactions: count ? BigInt(count) : 0n,
          deleted: fields.deleted === '1',
        };
      });
    }),

    uniqueUsers: async (itemIds) => withReadSpan('redis read unique users', { ...REDIS, 'orrery.keys': itemIds.length }, async () => {
      const keys = currentKeys();
      return Promise.all(itemIds.map((itemId) => redis.pfcount(keys.item(itemId).users)));
    }),

    seen: async (userId, itemIds) => withReadSpan('redis read seen', REDIS, async () => {
      const seen = new Set(await redis.lrange(currentKeys().user(userId).seen, 0, -1));
      return itemIds.map((itemId) => seen.has(itemId));
    }),

    async usersWithHistory(limit) {
      const { prefix } = currentKeys();
      const keys = await scanKeys(redis, recentListKeyPattern(prefix), { limit, maxScanned: USERS_SCAN_BOUND });
      return keys.map((key) => userIdOfRecentListKey(prefix, key)).filter((userId): userId is string => userId !== undefined);
    },

    async catalogChanges() {
      const { changes } = currentKeys().trending;
      return `${changes}=${(await redis.hget(changes, CATALOG_CHANGES_FIELD)) ?? '0'}`;
    },
  };
}

/** [member, score, member, score, …] as WITHSCORES answers → pairs with numeric scores. */
function pairs(flat: readonly string[]): { member: string; score: number }[] {
  const result: { member: string; score: number }[] = [];
  for (let index = 0; index + 1 < flat.length; index += 2) result.push({ member: flat[index]!, score: Number(flat[index + 1]) });
  return result;
}

/** A reader that follows the projection version pointer, with the Redis client it reads through. */
export interface FollowedReader {
  readonly reader: ProjectionReader;
  /** The client the reader uses (for health probes). */
  readonly redis: RedisClient;
  /** Stops following the pointer and closes the client. */
  close(): Promise<void>;
}

/**
 * Connects to Redis (auto-pipelined) and reads the projections under `config.redisPrefix`, following
 * the version pointer: each read uses the version current when it starts; a rebuild's switch is seen
 * within one poll interval, and the old version is kept longer than that (projector/rebuild.ts), so no
 * read meets a dropped one. Redis may be down at start: then version 0 is read until the first poll
 * that reaches Redis sets the pointer.
 */
export async function followProjections(
  config: Pick<OrreryConfig, 'redisUrl' | 'redisCluster' | 'redisPrefix' | 'projectionVersionPollMs' | 'projection'>,
  connectionName: string,
  logger: Logger,
): Promise<FollowedReader> {
  const redis = createRedis(config, connectionName, { autoPipelining: true });
  const control = controlKeys(config.redisPrefix);
  let version = await readProjectionVersion(redis, control).catch((error: unknown) => {
    logger.warn({ err: error }, 'projection version unknown at start (Redis unreachable); reading version 0 until Redis answers');
    return -1;
  });
  let keys = projectionKeys(versionPrefix(config.redisPrefix, Math.max(0, version)));
  const stopWatching = watchProjectionVersion(
    redis,
    control,
    version,
    config.projectionVersionPollMs,
    async (next) => {
      logger.info({ from: version, to: next }, 'projection version switched');
      version = next;
      keys = projectionKeys(versionPrefix(config.redisPrefix, version));
    },
    (error) => logger.error({ err: error }, 'projection version check failed'),
  );
  return {
    reader: redisProjectionReader(redis, () => keys, config.projection),
    redis,
    close: async () => {
      stopWatching();
      await redis.quit();
    },
  };
}
