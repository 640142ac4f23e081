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

/** Attaches scores[i] to candidates[i] and sorts best first (ties keep the candidates' order). */
export function rankByScore(candidates: readonly EligibleCandidate[], scores: readonly number[]): RankedCandidate[] {
  if (scores.length !== candidates.length) throw new Error(`${scores.length} scores for ${candidates.length} candidates`);
  return candidates
    .map((candidate, index): RankedCandidate => {
      const score = scores[index] ?? 0;
      const { itemId, sourceScores, reasons, coVisitedWith, item } = candidate;
      return { itemId, sourceScores, reasons, coVisitedWith, item, score: Number.isFinite(score) ? score : 0 };
    })
    .sort(byScoreDescending);
}

/**
 * Sort comparator, best score first. It answers -1/0/1 rather than `b.score - a.score`: a fractional
 * difference returned to Array.prototype.sort is boxed as a heap number on every comparison (~1,700
 * per Recommend, ~20 KB of garbage), a small integer is not.
 */
function byScoreDescending(a: RankedCandidate, b: RankedCandidate): number {
  return a.score < b.score ? 1 : a.score > b.score ? -1 : 0;
}

/** At most this many results may share a main category when there are enough others: ceil(count / 2). */
export function categoryCap(count: number): number {
  return Math.max(1, Math.ceil(count / 2));
}

/**
 * Takes the best `count` of `ranked` (best first) with at most `cap` per main category (an item's
 * first category); only when too few others remain are capped items used to fill up, after the
 * rest. Items without a category are never capped.
 */
export function diversify<T extends RankedCandidate>(ranked: readonly T[], count: number, cap = categoryCap(count)): T[] {
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
