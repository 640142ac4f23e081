// Merging the co-visitation lists of several source items into one ranking.

/** A candidate from one source item's co-visitation list, with its decayed score. */
export interface CoVisit {
  readonly itemId: string;
  readonly score: number;
}

/** A merged candidate: the summed score and the source item that contributed most. */
export interface MergedCoVisit {
  readonly itemId: string;
  readonly score: number;
  readonly sourceItemId: string;
}

/**
 * Sums each candidate's scores over the sources it is co-visited with (an item close to several of
 * them ranks higher), names the source that contributed most, leaves out the sources themselves,
 * and orders best first (ties by item id, so the answer is stable).
 */
export function mergeCoVisits(bySource: ReadonlyMap<string, readonly CoVisit[]>): MergedCoVisit[] {
  const merged = new Map<string, { score: number; sourceItemId: string; best: number }>();
  for (const [sourceItemId, coVisits] of bySource) {
    for (const { itemId, score } of coVisits) {
      if (bySource.has(itemId)) continue;
      const known = merged.get(itemId);
      if (!known) merged.set(itemId, { score, sourceItemId, best: score });
      else {
        known.score += score;
        if (score > known.best) {
          known.best = score;
          known.sourceItemId = sourceItemId;
        }
      }
    }
  }
  return [...merged]
    .map(([itemId, { score, sourceItemId }]) => ({ itemId, score, sourceItemId }))
    .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
}
