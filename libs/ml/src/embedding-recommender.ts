// Exact top-k search over ALS embeddings: the offline reference for what the vector service's ANN
// index returns, used by the trainer's held-out evaluation.

import type { ImplicitAlsModel } from './implicit-als';
import { seenItemsByUser, type Interaction } from './interactions';
import type { Recommender } from './metrics';

export interface EmbeddingRecommenderOptions {
  /**
   * 'dot' (default) ranks by the raw ALS score query·item (unit item vector × its norm); 'cosine'
   * ignores the item norm, as a cosine ANN index does.
   */
  readonly similarity?: 'dot' | 'cosine';
  /** The user's query vector; default: their trained vector (e.g. pass one from foldInUser instead). */
  readonly userVector?: (userId: string) => Float32Array | undefined;
  /** Used for users without a vector; default: recommend nothing. */
  readonly fallback?: Recommender;
}

/**
 * Recommends by exact search of the user's vector against every item vector (the reference for the
 * ANN index), excluding items seen in `interactions`.
 */
export function embeddingRecommender(
  model: ImplicitAlsModel,
  interactions: readonly Interaction[],
  options: EmbeddingRecommenderOptions = {},
): Recommender {
  const { factors, itemIds, itemVectors, itemNorms, userVectors } = model;
  const useNorms = (options.similarity ?? 'dot') === 'dot';
  const userRow = new Map(model.userIds.map((userId, row) => [userId, row]));
  const trainedVector = (userId: string): Float32Array | undefined => {
    const row = userRow.get(userId);
    return row === undefined ? undefined : userVectors.subarray(row * factors, (row + 1) * factors);
  };
  const vectorOf = options.userVector ?? trainedVector;
  const seen = seenItemsByUser(interactions);
  const scores = new Float32Array(itemIds.length);
  return (userId, k) => {
    const query = vectorOf(userId);
    if (!query) return options.fallback ? options.fallback(userId, k) : [];
    for (let i = 0; i < itemIds.length; i++) {
      let dot = 0;
      const itemOffset = i * factors;
      for (let f = 0; f < factors; f++) dot += (query[f] as number) * (itemVectors[itemOffset + f] as number);
      scores[i] = useNorms ? dot * (itemNorms[i] as number) : dot;
    }
    const exclude = seen.get(userId);
    return topKByScore(scores, k, (i) => exclude?.has(itemIds[i] as string) ?? false).map((i) => itemIds[i] as string);
  };
}

/** Indexes of the k highest scores, best first, skipping `skip(i)`; ties keep the lower index. */
export function topKByScore(scores: ArrayLike<number>, k: number, skip: (index: number) => boolean = () => false): number[] {
  const best: number[] = [];
  if (k <= 0) return best;
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i] as number;
    if (best.length === k && score <= (scores[best[k - 1] as number] as number)) continue;
    if (skip(i)) continue;
    let at = best.length === k ? k - 1 : best.length;
    while (at > 0 && (scores[best[at - 1] as number] as number) < score) {
      best[at] = best[at - 1] as number;
      at--;
    }
    best[at] = i;
  }
  return best;
}
