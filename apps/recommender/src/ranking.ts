// Ranking: order eligible candidates by the model's scores, or by a blend of their source scores
// when the model is unavailable, then spread the top of the list over categories.
import { CANDIDATE_SOURCES, type CandidateSource } from './candidates';
import type { EligibleCandidate } from './filtering';

/** A candidate with its final score. */
export interface RankedCandidate extends EligibleCandidate {
  readonly score: number;
}

/** How much each source counts in the fallback ranking (scores normalised per source first). */
export const FALLBACK_WEIGHTS: Readonly<Record<CandidateSource, number>> = {
  similar: 0.5,
  'co-visited': 0.3,
  trending: 0.2,
};

/**
 * The fallback score of each candidate: the weighted sum of its source scores, each divided by the
 * largest score of that source among the candidates (the sources' scales differ: cosine, co-visit
 * counts, decayed popularity). Negative scores count as 0. Result is in [0, 1].
 */
export function fallbackScores(
  candidates: readonly Pick<EligibleCandidate, 'sourceScores'>[],
  weights: Readonly<Record<CandidateSource, number>> = FALLBACK_WEIGHTS,
): number[] {
  const maxBySource = new Map<CandidateSource, number>();
  for (const source of CANDIDATE_SOURCES) {
    let max = 0;
    for (const candidate of candidates) max = Math.max(max, candidate.sourceScores[source] ?? 0);
    maxBySource.set(source, max);
  }
  return candidates.map((candidate) => {
    let score = 0;
    for (const source of CANDIDATE_SOURCES) {
      const max = maxBySource.get(source) ?? 0;
      const value = candidate.sourceScores[source];
      if (value !== undefined && max > 0) score += weights[source] * (Math.max(0, value) / max);
    }
    return score;
  });
}

/**
 * The candidates best first (ties keep the candidates' order), each given its score (scores[i] is
 * candidates[i]'s) as it is taken: callers read a few dozen of ~200 (diversify, firstRanked), and a
 * ranked copy of every candidate was ~20 KB of garbage per Recommend. Throws at once when the counts
 * differ.
 */
export function rankedByScore(candidates: readonly EligibleCandidate[], scores: readonly number[]): Iterable<RankedCandidate> {
  checkScoreCount(candidates, scores);
  return rankedInOrder(candidates, scores, indicesBestFirst(scores));
}

/** The first `count` of a ranking (all of it when shorter), read no further. */
export function firstRanked(ranked: Iterable<RankedCandidate>, count: number): RankedCandidate[] {
  const first: RankedCandidate[] = [];
  if (count <= 0) return first;
  for (const candidate of ranked) {
    first.push(candidate);
    if (first.length === count) break;
  }
  return first;
}

/**
 * candidates[index] for each index of `order`, scored as they are taken. A module-level generator
 * function, not one made per call: V8 gives each generator-function closure its own prototype and
 * map for the generators it makes, maps live in the old generation until a mark-sweep, and with a
 * closure per request the request's candidates and scores outlived every scavenge — copied, then
 * promoted: most of what every scavenge promoted at 500 req/s (2.3 → 0.6 MB, both measured without
 * allocation-site pretenuring, which the launcher turns off for the recommender).
 */
function* rankedInOrder(candidates: readonly EligibleCandidate[], scores: readonly number[], order: Iterable<number>): Generator<RankedCandidate, void, undefined> {
  for (const index of order) yield rankedAt(candidates, scores, index);
}

function checkScoreCount(candidates: readonly EligibleCandidate[], scores: readonly number[]): void {
  if (scores.length !== candidates.length) throw new Error(`${scores.length} scores for ${candidates.length} candidates`);
}

/** candidates[index] with scores[index] (non-finite as 0). */
function rankedAt(candidates: readonly EligibleCandidate[], scores: readonly number[], index: number): RankedCandidate {
  const { itemId, sourceScores, reasons, coVisit, item } = candidates[index]!;
  return { itemId, sourceScores, reasons, coVisit, item, score: finiteScore(scores[index]) };
}

/**
 * The indexes of `scores`, best score first (a non-finite score counts as 0; ties in index order),
 * taken one at a time from a binary heap: Recommend reads a few dozen of ~200, and sorting them all
 * with a comparator (~1,700 calls per request) took 3–4× as long as the heap's build and 30 takes.
 */
export function* indicesBestFirst(scores: readonly number[]): Generator<number, void, undefined> {
  const keys = new Float64Array(scores.length);
  const heap = new Int32Array(scores.length);
  for (let index = 0; index < scores.length; index++) {
    keys[index] = finiteScore(scores[index]);
    heap[index] = index;
  }
  for (let parent = (heap.length >> 1) - 1; parent >= 0; parent--) siftDown(heap, keys, parent, heap.length);
  for (let size = heap.length; size > 0; size--) {
    const best = heap[0]!;
    heap[0] = heap[size - 1]!;
    siftDown(heap, keys, 0, size - 1);
    yield best;
  }
}

/**
 * Moves heap[from] down the first `size` slots of a heap of indexes into `keys`, ordered by key (higher
 * first), then index (lower first): a total order, so the order taken is a stable sort's.
 */
function siftDown(heap: Int32Array, keys: Float64Array, from: number, size: number): void {
  const moving = heap[from]!;
  const movingKey = keys[moving]!;
  let at = from;
  for (;;) {
    let child = 2 * at + 1;
    if (child >= size) break;
    let childIndex = heap[child]!;
    let childKey = keys[childIndex]!;
    if (child + 1 < size) {
      const rightIndex = heap[child + 1]!;
      const rightKey = keys[rightIndex]!;
      if (rightKey > childKey || (rightKey === childKey && rightIndex < childIndex)) {
        child += 1;
        childIndex = rightIndex;
        childKey = rightKey;
      }
    }
    if (!(childKey > movingKey || (childKey === movingKey && childIndex < moving))) break;
    heap[at] = childIndex;
    at = child;
  }
  heap[at] = moving;
}

function finiteScore(score: number | undefined): number {
  return score !== undefined && Number.isFinite(score) ? score : 0;
}

/** At most this many results may share a main category when there are enough others: ceil(count / 2). */
export function categoryCap(count: number): number {
  return Math.max(1, Math.ceil(count / 2));
}

/**
 * Takes the best `count` of `ranked` (best first; read only as far as needed) with at most `cap`
 * per main category (an item's first category); only when too few others remain are capped items
 * used to fill up, after the rest. Items without a category are never capped.
 */
export function diversify<T extends RankedCandidate>(ranked: Iterable<T>, count: number, cap = categoryCap(count)): T[] {
  const chosen: T[] = [];
  const deferred: T[] = [];
  const perCategory = new Map<string, number>();
  for (const candidate of ranked) {
    if (chosen.length >= count) break;
    const category = candidate.item.categories[0];
    if (category === undefined) {
      chosen.push(candidate);
      continue;
    }
    const used = perCategory.get(category) ?? 0;
    if (used < cap) {
      perCategory.set(category, used + 1);
      chosen.push(candidate);
    } else {
      deferred.push(candidate);
    }
  }
  for (const candidate of deferred) {
    if (chosen.length >= count) break;
    chosen.push(candidate);
  }
  return chosen;
}
