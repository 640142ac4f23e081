// What the recommender needs from the rest of Orrery, as small interfaces over plain data. The
// gRPC/ZeroMQ clients in clients.ts implement them; the pipeline's tests use in-process fakes.
import type { Link } from '@orrery/telemetry';

/** What one recommendation needs to know about a user. */
export interface UserFacts {
  readonly userId: string;
  /** False when no event of this user was ever projected. */
  readonly known: boolean;
  /** Distinct recently interacted item ids, newest first. */
  readonly recentItemIds: readonly string[];
  /** Every item the user interacted with (bounded by the projection). */
  readonly seenItemIds: readonly string[];
  /** Category -> decayed affinity. */
  readonly categoryAffinity: ReadonlyMap<string, number>;
  /** Event type name -> count. */
  readonly eventCounts: ReadonlyMap<string, number>;
}

/** The catalog view and features of one item. */
export interface ItemFacts {
  readonly itemId: string;
  /** False when the catalog has never heard of this item. */
  readonly exists: boolean;
  readonly hidden: boolean;
  /** The first is the item's main category. */
  readonly categories: readonly string[];
  /** Epoch ms, or undefined when unknown. */
  readonly publishedAtMs: number | undefined;
  /** Decayed popularity. */
  readonly popularity: number;
  readonly interactions: number;
}

/** An item proposed by a candidate source, with its score there and the item that explains it. */
export interface SourcedItem {
  readonly itemId: string;
  readonly score: number;
  /** The item it is similar to / co-visited with; empty when the source has none, or explains it on demand (VectorNeighbours.explainedBy). */
  readonly becauseOfItemId: string;
}

/** Neighbours from the ANN index and the model version that produced them. */
export interface VectorNeighbours {
  readonly items: readonly SourcedItem[];
  readonly modelVersion: string;
  /**
   * When present, `items` are not explained yet (becauseOfItemId ''), and this names the item that
   * explains one of them: asked only for the items a Recommend returns, since explaining all ~140 hits
   * took a third of a search.
   */
  readonly explainedBy?: (itemId: string) => string;
}

/** Per-call options every downstream call takes. */
export interface CallLimits {
  /** Deadline of this call in ms. */
  readonly timeoutMs: number;
  /** Spans of other requests' traces this call also works for (a merged score call's other callers): its span links to them. */
  readonly links?: readonly Link[];
}

/** Reads the user's recent items, seen set and affinities (query). */
export interface UserContextSource {
  userContext(userId: string, limits: CallLimits): Promise<UserFacts>;
}

/**
 * Looks up catalog facts and item features (query): the facts of `itemIds[i]` at `[i]`; unknown ids
 * come back with exists=false (or undefined: either way never eligible).
 */
export interface Features {
  items(itemIds: readonly string[], limits: CallLimits): Promise<readonly (ItemFacts | undefined)[]>;
}

/** Retrieves nearest neighbours from the embedding index (vector). */
export interface Candidates {
  similarForUser(recentItemIds: readonly string[], count: number, excludeItemIds: readonly string[], limits: CallLimits): Promise<VectorNeighbours>;
  similarTo(itemId: string, count: number, limits: CallLimits): Promise<VectorNeighbours>;
}

/** Items co-visited with the given ones, best first (query). */
export interface CoVisitation {
  coVisited(itemIds: readonly string[], countPerItem: number, limits: CallLimits): Promise<readonly SourcedItem[]>;
}

/** Decayed-popularity ranking, overall (category '') or of one category (query). */
export interface Trending {
  trending(count: number, category: string, limits: CallLimits): Promise<readonly SourcedItem[]>;
}

/** A row-major candidate x feature matrix in the ranking schema's column order. */
export interface FeatureMatrix {
  readonly rows: number;
  readonly featureCount: number;
  readonly values: Float32Array;
  readonly schema: string;
}

/** One score per row and the version of the model that gave them. */
export interface Scores {
  readonly scores: readonly number[];
  readonly modelVersion: string;
}

/** Scores a whole candidate batch in one call (scoring). */
export interface Scorer {
  score(matrix: FeatureMatrix, limits: CallLimits): Promise<Scores>;
}
