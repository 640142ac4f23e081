// Filtering: what must never be returned (seen, hidden, unknown, excluded by the caller) is removed
// here, on every path, before anything is scored.
import type { Candidate } from './candidates';
import type { ItemFacts } from './ports';
import type { ItemFilter } from './validation';

/** A candidate that passed every filter, with its catalog facts. */
export interface EligibleCandidate extends Candidate {
  readonly item: ItemFacts;
}

/** Drops candidates whose id is in `excludedItemIds` (seen items, the caller's exclusions, the item itself). */
export function withoutItemIds(candidates: readonly Candidate[], excludedItemIds: ReadonlySet<string>): Candidate[] {
  return candidates.filter((candidate) => !excludedItemIds.has(candidate.itemId));
}

/** True when the catalog knows the item, it is not hidden, and it satisfies the caller's filter. */
export function isEligible(item: ItemFacts | undefined, filter: ItemFilter): item is ItemFacts {
  if (!item || !item.exists || item.hidden) return false;
  if (filter.excludeItemIds.has(item.itemId)) return false;
  if (item.categories.some((category) => filter.excludeCategories.has(category))) return false;
  if (filter.includeCategories.size > 0 && !item.categories.some((category) => filter.includeCategories.has(category))) return false;
  return true;
}

/**
 * Keeps the candidates whose catalog facts (`items[i]` those of `candidates[i]`) pass `isEligible`,
 * in their original order, each with its facts attached. Facts of another item than the candidate at
 * their position count as none (fail closed: a source that answered out of order hides items rather
 * than showing a hidden one). Ids to exclude (seen items, the caller's) are dropped before, by
 * withoutItemIds.
 */
export function eligibleCandidates(candidates: readonly Candidate[], items: readonly (ItemFacts | undefined)[], filter: ItemFilter): EligibleCandidate[] {
  const eligible: EligibleCandidate[] = [];
  for (let index = 0; index < candidates.length; index++) {
    const candidate = candidates[index]!;
    const item = items[index];
    if (item?.itemId === candidate.itemId && isEligible(item, filter)) {
      eligible.push({ itemId: candidate.itemId, sourceScores: candidate.sourceScores, reasons: candidate.reasons, coVisit: candidate.coVisit, item });
    }
  }
  return eligible;
}

/** The union of the given id collections. */
export function idSet(...collections: ReadonlyArray<Iterable<string>>): Set<string> {
  const ids = new Set<string>();
  for (const collection of collections) for (const id of collection) ids.add(id);
  return ids;
}
