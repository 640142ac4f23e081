// Baseline recommenders built from training interactions only. Each returns items the user has not
// interacted with in training, best first; a learned model must beat them to be worth serving.

import {
  DAY_MS,
  EVENT_TYPE_WEIGHTS,
  decayWeight,
  interactionWeight,
  seenItemsByUser,
  type Interaction,
  type InteractionType,
} from './interactions';
import type { Recommender } from './metrics';

export interface PopularityBaselineOptions {
  /** Weight of an event halves every this many days before the newest event; default Infinity (no decay). */
  readonly halfLifeDays?: number;
  readonly eventWeights?: Readonly<Record<InteractionType, number>>;
  /** Items never recommended, e.g. those the catalog hides (serving never shows them); default none. */
  readonly excluded?: (itemId: string) => boolean;
}

export interface CoVisitationBaselineOptions {
  /** A later item counts as co-visited when it is among the next this many distinct items; default 5. */
  readonly window?: number;
  /** …and follows within this many minutes (same session); default 30. */
  readonly sessionGapMinutes?: number;
  /** The user's most recent distinct items that seed candidates; default 10. */
  readonly recentItems?: number;
}

/** Item ids ordered by descending net (decayed) interaction weight; ties by id. */
function itemsByPopularity(interactions: readonly Interaction[], options: PopularityBaselineOptions): string[] {
  const halfLifeMs = (options.halfLifeDays ?? Infinity) * DAY_MS;
  const eventWeights = options.eventWeights ?? EVENT_TYPE_WEIGHTS;
  let newest = -Infinity;
  for (const { occurredAt } of interactions) newest = Math.max(newest, occurredAt);
  const score = new Map<string, number>();
  for (const { itemId, type, value, occurredAt } of interactions) {
    const weight = interactionWeight(type, value, eventWeights) * decayWeight(newest - occurredAt, halfLifeMs);
    score.set(itemId, (score.get(itemId) ?? 0) + weight);
  }
  return [...score]
    .sort(([aId, a], [bId, b]) => b - a || (aId < bId ? -1 : aId > bId ? 1 : 0))
    .map(([itemId]) => itemId);
}

/** First k of `ranked` not in `exclude`. */
function firstUnseen(ranked: readonly string[], exclude: ReadonlySet<string> | undefined, k: number): string[] {
  const picked: string[] = [];
  for (const itemId of ranked) {
    if (picked.length >= k) break;
    if (!exclude?.has(itemId)) picked.push(itemId);
  }
  return picked;
}

/** Recommends the most-interacted-with items the user has not seen, but for the excluded ones (the same list for everyone). */
export function popularityBaseline(
  interactions: readonly Interaction[],
  options: PopularityBaselineOptions = {},
): Recommender {
  const { excluded } = options;
  const popular = itemsByPopularity(interactions, options);
  const ranked = excluded ? popular.filter((itemId) => !excluded(itemId)) : popular;
  const seen = seenItemsByUser(interactions);
  return (userId, k) => firstUnseen(ranked, seen.get(userId), k);
}

/**
 * Recommends items most often visited in the same session right after the user's recent items
 * (recent ones count more), topped up with popular items.
 */
export function coVisitationBaseline(
  interactions: readonly Interaction[],
  options: CoVisitationBaselineOptions = {},
): Recommender {
  const window = options.window ?? 5;
  const sessionGapMs = (options.sessionGapMinutes ?? 30) * 60_000;
  const recentCount = options.recentItems ?? 10;

  const visitsByUser = new Map<string, Array<{ itemId: string; at: number }>>();
  for (const { userId, itemId, occurredAt } of [...interactions].sort((a, b) => a.occurredAt - b.occurredAt)) {
    let visits = visitsByUser.get(userId);
    if (!visits) visitsByUser.set(userId, (visits = []));
    const last = visits[visits.length - 1];
    // Funnel events on the same item (view, click, cart…) are one visit.
    if (last?.itemId === itemId) last.at = occurredAt;
    else visits.push({ itemId, at: occurredAt });
  }
  const coVisits = new Map<string, Map<string, number>>();
  const addCoVisit = (from: string, to: string): void => {
    let neighbours = coVisits.get(from);
    if (!neighbours) coVisits.set(from, (neighbours = new Map()));
    neighbours.set(to, (neighbours.get(to) ?? 0) + 1);
  };
  for (const visits of visitsByUser.values()) {
    visits.forEach((visit, i) => {
      for (let j = i + 1; j < Math.min(visits.length, i + 1 + window); j++) {
        const later = visits[j] as { itemId: string; at: number };
        if (later.at - (visits[j - 1] as { at: number }).at > sessionGapMs) break;
        if (later.itemId === visit.itemId) continue;
        addCoVisit(visit.itemId, later.itemId);
        addCoVisit(later.itemId, visit.itemId);
      }
    });
  }

  const popular = itemsByPopularity(interactions, {});
  const seen = seenItemsByUser(interactions);
  return (userId, k) => {
    const exclude = seen.get(userId);
    const visits = visitsByUser.get(userId) ?? [];
    const recent: string[] = [];
    for (let i = visits.length - 1; i >= 0 && recent.length < recentCount; i--) {
      const itemId = (visits[i] as { itemId: string }).itemId;
      if (!recent.includes(itemId)) recent.push(itemId);
    }
    const score = new Map<string, number>();
    recent.forEach((itemId, age) => {
      for (const [neighbour, count] of coVisits.get(itemId) ?? []) {
        if (exclude?.has(neighbour)) continue;
        score.set(neighbour, (score.get(neighbour) ?? 0) + count / (age + 1));
      }
    });
    const ranked = [...score].sort(([aId, a], [bId, b]) => b - a || (aId < bId ? -1 : 1)).map(([itemId]) => itemId);
    const picked = ranked.slice(0, k);
    if (picked.length < k) {
      const already = new Set([...picked, ...(exclude ?? [])]);
      picked.push(...firstUnseen(popular, already, k - picked.length));
    }
    return picked;
  };
}
