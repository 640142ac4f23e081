// QueryService: validates, reads the projections, converts to the contract. Unknown users and
// items give empty results, never errors.
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ServiceImplementation } from '@orrery/grpc';
import type { QueryService } from '@orrery/proto';
import { mergeCoVisits, type ProjectionReader } from '@orrery/projections';
import { countOrDefault, optionalCategory, requireId, requireIds } from './validation';

/** Defaults the proto documents for a count of 0. */
const DEFAULT_RECENT_LIMIT = 20;
const DEFAULT_COUNT_PER_ITEM = 20;
const DEFAULT_TRENDING_COUNT = 50;

/** The QueryService implementation over a ProjectionReader. */
export function queryService(reader: ProjectionReader): ServiceImplementation<typeof QueryService> {
  return {
    async getUserContext(request) {
      const userId = requireId('user_id', request.userId);
      const recentLimit = countOrDefault('recent_limit', request.recentLimit, DEFAULT_RECENT_LIMIT);
      const user = await reader.user(userId, recentLimit);
      return {
        userId,
        known: user.known,
        recent: user.recent.map((entry) => ({ itemId: entry.itemId, type: entry.type, occurredAt: timestampFromMs(entry.occurredMs) })),
        seenItemIds: [...user.seenItemIds],
        categoryAffinity: Object.fromEntries(user.categoryAffinity),
        eventCounts: Object.fromEntries(user.eventCounts),
        ...(user.lastActiveMs === undefined ? {} : { lastActive: timestampFromMs(user.lastActiveMs) }),
      };
    },

    async getCoVisited(request) {
      const itemIds = [...new Set(requireIds('item_ids', request.itemIds))];
      const countPerItem = countOrDefault('count_per_item', request.countPerItem, DEFAULT_COUNT_PER_ITEM);
      if (itemIds.length === 0) return { items: [] };
      const merged = mergeCoVisits(await reader.coVisits(itemIds, countPerItem));
      return { items: merged.map(({ itemId, score, sourceItemId }) => ({ itemId, score, sourceItemId })) };
    },

    async getTrending(request) {
      const count = countOrDefault('count', request.count, DEFAULT_TRENDING_COUNT);
      const category = optionalCategory('category', request.category);
      const ranked = await reader.trending(category, count);
      return { items: ranked.map(({ itemId, score }) => ({ itemId, score })) };
    },

    async getItems(request) {
      const itemIds = requireIds('item_ids', request.itemIds);
      const [items, uniqueUsers] = itemIds.length === 0 ? [[], []] : await Promise.all([reader.items(itemIds), reader.uniqueUsers(itemIds)]);
      return {
        items: items.map(({ itemId, catalog, popularity, interactions, deleted }, index) => ({
          itemId,
          exists: catalog !== undefined,
          deleted,
          categories: [...(catalog?.categories ?? [])],
          tags: [...(catalog?.tags ?? [])],
          uniqueUsers: BigInt(uniqueUsers[index] ?? 0),
          hidden: catalog?.hidden ?? false,
          ...(catalog?.publishedAtMs === undefined ? {} : { publishedAt: timestampFromMs(catalog.publishedAtMs) }),
          popularity,
          interactions,
        })),
      };
    },

    async checkSeen(request) {
      const userId = requireId('user_id', request.userId);
      const itemIds = requireIds('item_ids', request.itemIds);
      return { seen: itemIds.length === 0 ? [] : await reader.seen(userId, itemIds) };
    },
  };
}
