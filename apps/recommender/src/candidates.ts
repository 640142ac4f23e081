// Candidate merging: several sources propose items; one candidate per item keeps every reason and
// the best score each source gave it, so ranking and explanations see the whole picture.
import type { CoVisitSource } from '@orrery/ml';
import { ItemPositions } from './item-positions';
import type { SourcedItem } from './ports';

/** Where a candidate came from; each source has its own score scale. */
export type CandidateSource = 'similar' | 'co-visited' | 'trending';

export const CANDIDATE_SOURCES: readonly CandidateSource[] = ['similar', 'co-visited', 'trending'];

/** One item proposed by one or more sources. */
export interface Candidate {
  readonly itemId: string;
  /** The best score each source gave the item; absent when the source did not propose it. */
  readonly sourceScores: Readonly<Partial<Record<CandidateSource, number>>>;
  /** Distinct explanations in the order they were found, e.g. `similar-to:item-42`. */
  readonly reasons: readonly string[];
  /**
   * The item it was co-visited with and the score, for the covisit_score feature: the best-scoring
   * co-visit source (a Recommend's co-visits come merged, one per item, its main source holding the
   * sum, as in training); undefined when not co-visited.
   */
  readonly coVisit: CoVisitSource | undefined;
}

/**
 * A batch of items from one source as the source returned them (not copied: a request merges ~300
 * of these, many straight from a cache), with how each is explained and by which item.
 */
export interface SourceBatch {
  readonly source: CandidateSource;
  readonly items: readonly SourcedItem[];
  /** The item that explains `item` (similar to / co-visited with); empty when none. */
  becauseOf(item: SourcedItem): string;
  /** The explanation of `item`, e.g. `similar-to:item-42`. */
  reason(item: SourcedItem): string;
}

/** ANN neighbours explained by the recent (or given) item they are nearest to. */
export function similarBatch(items: readonly SourcedItem[], fallbackBecauseOf = ''): SourceBatch {
  return explainedByItem('similar', 'similar-to', items, fallbackBecauseOf);
}

/** Co-visited items explained by the item they were co-visited with. */
export function coVisitedBatch(items: readonly SourcedItem[], fallbackBecauseOf = ''): SourceBatch {
  return explainedByItem('co-visited', 'co-visited', items, fallbackBecauseOf);
}

/** Trending items: `trending` overall, `trending-in:<category>` for a category's ranking. */
export function trendingBatch(items: readonly SourcedItem[], category = ''): SourceBatch {
  const reason = category ? `trending-in:${category}` : 'trending';
  return { source: 'trending', items, becauseOf: () => '', reason: () => reason };
}

function explainedByItem(source: CandidateSource, kind: string, items: readonly SourcedItem[], fallbackBecauseOf: string): SourceBatch {
  const becauseOf = (item: SourcedItem): string => item.becauseOfItemId || fallbackBecauseOf;
  // A batch's ~100 items are explained by a few items (the user's recent ones): each explanation is
  // built once per batch, not once per item.
  const reasons = new Map<string, string>();
  const reason = (item: SourcedItem): string => {
    const explaining = becauseOf(item);
    let explanation = reasons.get(explaining);
    if (explanation === undefined) reasons.set(explaining, (explanation = explain(kind, explaining)));
    return explanation;
  };
  return { source, items, becauseOf, reason };
}

function explain(kind: string, becauseOf: string): string {
  return becauseOf ? `${kind}:${becauseOf}` : kind;
}

/** The reason of an ANN neighbour not explained yet (see withSimilarExplained). */
const UNEXPLAINED_SIMILAR = explain('similar-to', '');

/**
 * `reasons` with an unexplained ANN neighbour's bare `similar-to` now saying what it is similar to
 * (`similar-to:<becauseOf>`), for a source that explains its items on demand
 * (VectorNeighbours.explainedBy); the same list when there is nothing to explain or no item explains it.
 */
export function withSimilarExplained(reasons: readonly string[], becauseOf: () => string): readonly string[] {
  const at = reasons.indexOf(UNEXPLAINED_SIMILAR);
  if (at < 0) return reasons;
  const explaining = becauseOf();
  if (!explaining) return reasons;
  const explained = [...reasons];
  explained[at] = explain('similar-to', explaining);
  return explained;
}

interface MergingCandidate {
  readonly itemId: string;
  readonly sourceScores: SourceScores;
  reasons: readonly string[];
  coVisit: CoVisitSource | undefined;
}

type SourceScores = Record<CandidateSource, number | undefined>;

/** Where each item's candidate is in the merge being built; one for every merge, as a merge runs start to end synchronously. */
const candidatePositions = new ItemPositions();

/**
 * Merges batches into one candidate per item, in order of first appearance; per source the best
 * score wins and every distinct reason is kept (and each co-visitation source item's score).
 * Non-finite scores count as 0.
 */
export function mergeCandidates(batches: readonly SourceBatch[]): Candidate[] {
  const inOrder: MergingCandidate[] = [];
  candidatePositions.begin();
  // Reason lists are never changed in place (a second reason makes a new list), so the candidates
  // with the same single reason share one list rather than each making its own.
  const singleReasons = new Map<string, readonly string[]>();
  for (const batch of batches) {
    const { source } = batch;
    for (const item of batch.items) {
      if (!item.itemId) continue;
      const score = Number.isFinite(item.score) ? item.score : 0;
      const reason = batch.reason(item);
      const position = candidatePositions.positionOf(item.itemId);
      let candidate = position >= 0 ? inOrder[position] : undefined;
      if (!candidate) {
        let reasons = singleReasons.get(reason);
        if (!reasons) singleReasons.set(reason, (reasons = [reason]));
        candidate = { itemId: item.itemId, sourceScores: noSourceScores(), reasons, coVisit: undefined };
        candidatePositions.place(item.itemId, inOrder.length);
        inOrder.push(candidate);
      } else if (!candidate.reasons.includes(reason)) {
        candidate.reasons = appended(candidate.reasons, reason);
      }
      keepBestScore(candidate.sourceScores, source, score);
      const becauseOf = source === 'co-visited' ? batch.becauseOf(item) : '';
      // One small object per co-visited candidate, where a Map of its sources was made for each.
      if (becauseOf && (candidate.coVisit === undefined || score > candidate.coVisit.score)) candidate.coVisit = { sourceItemId: becauseOf, score };
    }
  }
  return inOrder;
}

/**
 * A copy of `list` with `value` added, of the exact size: push would grow a one-reason array to 17
 * slots (~150 bytes more), and concat takes its slow path for a string argument.
 */
function appended(list: readonly string[], value: string): string[] {
  const longer = new Array<string>(list.length + 1);
  for (let index = 0; index < list.length; index++) longer[index] = list[index]!;
  longer[list.length] = value;
  return longer;
}

/**
 * Source scores with every source present (undefined until it proposes the item): every candidate's
 * scores then share one shape, and a score is set by name, not added as a property, which was a
 * fifth of mergeCandidates' time.
 */
function noSourceScores(): SourceScores {
  return { similar: undefined, 'co-visited': undefined, trending: undefined };
}

function keepBestScore(scores: SourceScores, source: CandidateSource, score: number): void {
  switch (source) {
    case 'similar':
      if (scores.similar === undefined || score > scores.similar) scores.similar = score;
      return;
    case 'co-visited':
      if (scores['co-visited'] === undefined || score > scores['co-visited']) scores['co-visited'] = score;
      return;
    case 'trending':
      if (scores.trending === undefined || score > scores.trending) scores.trending = score;
      return;
    default:
      source satisfies never;
  }
}

/** Items each source is asked for at least: with count 10 about 200 candidates reach the ranker (demo data: 211). */
export const MIN_CANDIDATES_PER_SOURCE = 100;

/** How many items each source is asked for: enough to survive filtering and give the ranker a real choice, bounded. */
export function candidatePoolSize(count: number): number {
  return Math.min(Math.max(count * 3, MIN_CANDIDATES_PER_SOURCE), 1_500);
}

/** Counts the candidates each source proposed (for span attributes). */
export function countBySource(batches: readonly SourceBatch[]): Record<CandidateSource, number> {
  const counts: Record<CandidateSource, number> = { similar: 0, 'co-visited': 0, trending: 0 };
  for (const batch of batches) counts[batch.source] += batch.items.length;
  return counts;
}
