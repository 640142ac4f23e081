// Request-time user vectors: the vector service folds a user's recent items into a query for the ANN
// index, so a click changes the next recommendations without retraining.

import { decayWeight } from './interactions';
import type { ImplicitAlsModel } from './implicit-als';

/** Anything that finds an item's (unit) vector by id; a Map satisfies it. */
export interface ItemVectorLookup {
  get(itemId: string): Float32Array | undefined;
}

/** One recent item of a user and how much it should count (e.g. recency × event weight). */
export interface WeightedItem {
  readonly itemId: string;
  readonly weight: number;
}

/** Returns a Map from item id to its row of `model.itemVectors` (views, not copies). */
export function itemVectorsById(model: Pick<ImplicitAlsModel, 'itemIds' | 'itemVectors' | 'factors'>): Map<string, Float32Array> {
  return new Map(
    model.itemIds.map((itemId, row) => [itemId, model.itemVectors.subarray(row * model.factors, (row + 1) * model.factors)]),
  );
}

/**
 * Returns the L2-normalised weighted sum of the known recent items' vectors, or undefined when no
 * item with positive weight has a vector (the caller then falls back to other candidate sources).
 */
export function foldInUser(
  itemVectors: ItemVectorLookup,
  recentItems: readonly WeightedItem[],
  factors: number,
): Float32Array | undefined {
  const sum = new Float64Array(factors);
  let used = 0;
  for (const { itemId, weight } of recentItems) {
    const vector = itemVectors.get(itemId);
    if (!vector || !(weight > 0)) continue;
    if (vector.length !== factors) {
      throw new Error(`item ${itemId} has ${vector.length} factors, expected ${factors}`);
    }
    for (let k = 0; k < factors; k++) sum[k] = (sum[k] as number) + weight * (vector[k] as number);
    used++;
  }
  let squared = 0;
  for (const value of sum) squared += value * value;
  if (used === 0 || squared === 0) return undefined;
  const scale = 1 / Math.sqrt(squared);
  return Float32Array.from(sum, (value) => value * scale);
}

/**
 * Weights a user's recent items (newest first or in any order) by recency: 0.5^(age / halfLife)
 * relative to `now`, summed per item, for `foldInUser`.
 */
export function recencyWeightedItems(
  recent: ReadonlyArray<{ readonly itemId: string; readonly occurredAt: number }>,
  now: number,
  halfLifeMs: number,
): WeightedItem[] {
  const weights = new Map<string, number>();
  for (const { itemId, occurredAt } of recent) {
    weights.set(itemId, (weights.get(itemId) ?? 0) + decayWeight(now - occurredAt, halfLifeMs));
  }
  return [...weights].map(([itemId, weight]) => ({ itemId, weight }));
}
