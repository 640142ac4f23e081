// Thin adapters: the gRPC clients of query and vector and the ZeroMQ client of scoring implement the
// pipeline's interfaces, converting protobuf messages to plain data at the edge.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { createClient, type Client } from '@orrery/grpc';
import {
  QueryService,
  ScoreReplySchema,
  ScoreRequestSchema,
  VectorService,
  type ItemView,
  type ScoredItem,
  type UserContext,
  type VectorHits,
} from '@orrery/proto';
import { ZmqRequestClient } from '@orrery/zmq';
import type { Candidates, CoVisitation, Features, ItemFacts, Scorer, SourcedItem, Trending, UserContextSource, UserFacts, VectorNeighbours } from './ports';

/** How many recent interactions the recommender asks query for. */
const RECENT_LIMIT = 20;

/** The query service as the recommender sees it: user context, catalog facts, co-visits, trending. */
export type QueryClient = UserContextSource & Features & CoVisitation & Trending & { close(): void };

/** The vector service as the recommender sees it. */
export type VectorClient = Candidates & { close(): void };

/** The scoring service as the recommender sees it. */
export type ScoringClient = Scorer & { close(): Promise<void> };

/** A gRPC client of QueryService at `address` implementing UserContextSource, Features, CoVisitation and Trending. */
export function createQueryClient(address: string, timeoutMs: number): QueryClient {
  const client: Client<typeof QueryService> = createClient(QueryService, address, { timeoutMs });
  return {
    userContext: async (userId, limits) => toUserFacts(await client.getUserContext({ userId, recentLimit: RECENT_LIMIT }, limits)),
    items: async (itemIds, limits) => {
      const response = await client.getItems({ itemIds: [...itemIds] }, limits);
      return new Map(response.items.map((view) => [view.itemId, toItemFacts(view)]));
    },
    coVisited: async (itemIds, countPerItem, limits) => (await client.getCoVisited({ itemIds: [...itemIds], countPerItem }, limits)).items.map(toSourcedItem),
    trending: async (count, category, limits) => (await client.getTrending({ count, category }, limits)).items.map(toSourcedItem),
    close: () => client.close(),
  };
}

/** A gRPC client of VectorService at `address` implementing Candidates. */
export function createVectorClient(address: string, timeoutMs: number): VectorClient {
  const client: Client<typeof VectorService> = createClient(VectorService, address, { timeoutMs });
  return {
    similarForUser: async (recentItemIds, count, excludeItemIds, limits) =>
      toNeighbours(await client.searchForUser({ recentItemIds: [...recentItemIds], count, excludeItemIds: [...excludeItemIds] }, limits)),
    similarTo: async (itemId, count, limits) => toNeighbours(await client.similarTo({ itemId, count }, limits)),
    close: () => client.close(),
  };
}

/** A ZeroMQ client of scoring at `endpoint` implementing Scorer; a reply with an error rejects. */
export function createScoringClient(endpoint: string, timeoutMs: number): ScoringClient {
  const client = new ZmqRequestClient({ endpoint, name: 'scoring', timeoutMs });
  return {
    score: async (matrix, limits) => {
      const request = create(ScoreRequestSchema, { featureCount: matrix.featureCount, features: Array.from(matrix.values), featureSchema: matrix.schema });
      const reply = fromBinary(ScoreReplySchema, await client.request(toBinary(ScoreRequestSchema, request), limits.timeoutMs));
      if (reply.error) throw new Error(reply.error);
      return { scores: reply.scores, modelVersion: reply.modelVersion };
    },
    close: () => client.close(),
  };
}

/** Converts a UserContext to UserFacts (recent items distinct, newest first). */
export function toUserFacts(context: UserContext): UserFacts {
  return {
    userId: context.userId,
    known: context.known,
    recentItemIds: [...new Set(context.recent.map((interaction) => interaction.itemId).filter(Boolean))],
    seenItemIds: context.seenItemIds,
    categoryAffinity: new Map(Object.entries(context.categoryAffinity)),
    eventCounts: new Map(Object.entries(context.eventCounts).map(([type, count]) => [type, Number(count)])),
  };
}

/** Converts an ItemView to ItemFacts. */
export function toItemFacts(view: ItemView): ItemFacts {
  return {
    itemId: view.itemId,
    exists: view.exists,
    hidden: view.hidden,
    categories: view.categories,
    publishedAtMs: view.publishedAt ? timestampMs(view.publishedAt) : undefined,
    popularity: view.popularity,
    interactions: Number(view.interactions),
  };
}

function toSourcedItem(item: ScoredItem): SourcedItem {
  return { itemId: item.itemId, score: item.score, becauseOfItemId: item.sourceItemId };
}

function toNeighbours(hits: VectorHits): VectorNeighbours {
  return { items: hits.hits.map((hit) => ({ itemId: hit.itemId, score: hit.score, becauseOfItemId: hit.nearestItemId })), modelVersion: hits.modelVersion };
}
