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
  return mergeCoVisitsAs(bySource, (itemId, score, sourceItemId) => ({ itemId, score, sourceItemId }));
}

/**
 * mergeCoVisits, each merged candidate made by `make` (the caller's own shape, rather than a
 * MergedCoVisit per candidate to be copied: the recommender merges ~100 per request).
 */
export function mergeCoVisitsAs<T extends CoVisit>(
  bySource: ReadonlyMap<string, readonly CoVisit[]>,
  make: (itemId: string, score: number, sourceItemId: string) => T,
): T[] {
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
  // forEach rather than spreading the map's entries: no [key, value] array per candidate.
  const answer: T[] = [];
  merged.forEach(({ score, sourceItemId }, itemId) => answer.push(make(itemId, score, sourceItemId)));
  return answer.sort(bestFirstThenById);
}

/**
 * Higher score first, ties by item id. It answers -1/0/1 rather than a score difference: a fractional
 * number returned to Array.prototype.sort is boxed as a heap number on every comparison, a small
 * integer is not (this sorts a few hundred co-visits per Recommend).
 */
function bestFirstThenById(a: CoVisit, b: CoVisit): number {
  if (a.score < b.score) return 1;
  if (a.score > b.score) return -1;
  return a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0;
}
