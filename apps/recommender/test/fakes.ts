// In-process fakes of the recommender's ports, over plain in-memory data (the transport is not what
// the pipeline tests test; test/recommender.test.ts covers the wire).
import type { DownstreamBudget } from '../src/downstream';
import type { RecommenderPorts } from '../src/pipeline';
import type { ItemFacts, Scores, SourcedItem, UserFacts } from '../src/ports';

/** A catalog item; `categories[0]` is its main category. */
export function item(itemId: string, categories: string[] = ['general'], overrides: Partial<ItemFacts> = {}): ItemFacts {
  return { itemId, exists: true, hidden: false, categories, publishedAtMs: Date.UTC(2024, 0, 1), popularity: 1, interactions: 1, ...overrides };
}

/** A user with recent (newest first) and seen items. */
export function user(userId: string, recentItemIds: string[], overrides: Partial<UserFacts> = {}): UserFacts {
  return {
    userId,
    known: recentItemIds.length > 0,
    recentItemIds,
    seenItemIds: recentItemIds,
    categoryAffinity: new Map(),
    eventCounts: new Map(),
    ...overrides,
  };
}

/** What the fake downstreams know. */
export interface FakeWorld {
  readonly users?: Record<string, UserFacts>;
  readonly items?: ItemFacts[];
  /** For SearchForUser: every hit, whatever the recent items. */
  readonly similarForUser?: SourcedItem[];
  /** For SimilarTo: hits per item. */
  readonly similarTo?: Record<string, SourcedItem[]>;
  /** Co-visits per source item (source_item_id is filled in). */
  readonly coVisits?: Record<string, { itemId: string; score: number }[]>;
  /** Trending per category ('' is overall). */
  readonly trending?: Record<string, { itemId: string; score: number }[]>;
  readonly modelVersion?: string;
  readonly vectorModelVersion?: string;
}

/** Calls each fake received, for asserting on what was asked. */
export interface FakeCalls {
  scoredRows: Float32Array[];
  trendingCategories: string[];
  similarForUser: { recent: readonly string[]; exclude: readonly string[] }[];
}

/** In-memory ports over `world`; the scorer scores by the ann_score column unless replaced. */
export function fakePorts(world: FakeWorld, overrides: Partial<RecommenderPorts> = {}): { ports: RecommenderPorts; calls: FakeCalls } {
  const calls: FakeCalls = { scoredRows: [], trendingCategories: [], similarForUser: [] };
  const items = new Map((world.items ?? []).map((facts) => [facts.itemId, facts]));
  const ports: RecommenderPorts = {
    users: { userContext: async (userId) => world.users?.[userId] ?? user(userId, []) },
    features: {
      items: async (itemIds) => itemIds.map((itemId) => items.get(itemId) ?? item(itemId, [], { exists: false, popularity: 0, interactions: 0 })),
    },
    candidates: {
      similarForUser: async (recent, count, exclude) => {
        calls.similarForUser.push({ recent, exclude });
        return { items: (world.similarForUser ?? []).slice(0, count), modelVersion: world.vectorModelVersion ?? 'vector-v1' };
      },
      similarTo: async (itemId, count) => ({ items: (world.similarTo?.[itemId] ?? []).slice(0, count), modelVersion: world.vectorModelVersion ?? 'vector-v1' }),
    },
    coVisitation: {
      coVisited: async (itemIds, countPerItem) =>
        itemIds.flatMap((source) => (world.coVisits?.[source] ?? []).slice(0, countPerItem).map((hit) => ({ ...hit, becauseOfItemId: source }))),
    },
    trending: {
      trending: async (count, category) => {
        calls.trendingCategories.push(category);
        return (world.trending?.[category] ?? []).slice(0, count).map((hit) => ({ ...hit, becauseOfItemId: '' }));
      },
    },
    scorer: {
      score: async (matrix): Promise<Scores> => {
        calls.scoredRows.push(matrix.values);
        const scores = Array.from({ length: matrix.rows }, (_, row) => matrix.values[row * matrix.featureCount] ?? 0);
        return { scores, modelVersion: world.modelVersion ?? 'ranker-v1' };
      },
    },
    ...overrides,
  };
  return { ports, calls };
}

/** A budget of `perCallTimeoutMs` per call and no request deadline. */
export function budget(perCallTimeoutMs = 1_000): DownstreamBudget {
  return { perCallTimeoutMs, requestDeadlineMs: Infinity, now: Date.now };
}

/** A promise that never settles (a downstream that hangs). */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
