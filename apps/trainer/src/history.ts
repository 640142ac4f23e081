// What the query side would know at the end of an interaction log: per-user recent items, seen set
// and category affinity, per-item decayed popularity, item-to-item co-visitation. The trainer builds
// ranking features from this snapshot the way the recommender builds them from the projections.

import { DAY_MS, decayWeight, interactionWeight, type Interaction } from '@orrery/ml';

/** Catalog facts of one item (the `items` table). */
export interface CatalogItem {
  readonly categories: readonly string[];
  /** Epoch ms, or undefined when unknown. */
  readonly publishedAt: number | undefined;
  readonly hidden: boolean;
}

export type Catalog = ReadonlyMap<string, CatalogItem>;

/** Distinct recent items kept per user (newest first), as the projector keeps them. */
export const RECENT_ITEMS_LIMIT = 20;
/** trending_score decays with this half-life (RANKING_FEATURE_DESCRIPTIONS). */
export const TRENDING_HALF_LIFE_DAYS = 1;
/** log_popularity decays with this half-life (RANKING_FEATURE_DESCRIPTIONS). */
export const POPULARITY_HALF_LIFE_DAYS = 30;
/** Half-life of a user's category affinity. */
export const AFFINITY_HALF_LIFE_DAYS = 30;
/** A later item counts as co-visited when it is among the next this many distinct items… */
export const COVISIT_WINDOW = 5;
/** …and follows the previous visit within this gap (same session). */
export const COVISIT_SESSION_GAP_MS = 30 * 60_000;

/** The state of the read side after a log, at `now` (its newest event). */
export interface HistorySnapshot {
  readonly now: number;
  /** Distinct item ids per user, newest first, at most RECENT_ITEMS_LIMIT. */
  readonly recentItems: ReadonlyMap<string, readonly string[]>;
  readonly seenItems: ReadonlyMap<string, ReadonlySet<string>>;
  /** Category → decayed positive weight, per user. */
  readonly categoryAffinity: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Item → interaction weight decayed with TRENDING_HALF_LIFE_DAYS. */
  readonly trending: ReadonlyMap<string, number>;
  /** Item → interaction weight decayed with POPULARITY_HALF_LIFE_DAYS. */
  readonly popularity: ReadonlyMap<string, number>;
  /** Item ids by descending trending weight (ties by id). */
  readonly trendingRanking: readonly string[];
  /** Item → co-visited item → count (symmetric). */
  readonly coVisits: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

function addTo<K>(map: Map<K, number>, key: K, amount: number): void {
  map.set(key, (map.get(key) ?? 0) + amount);
}

/** Builds the snapshot of `events` (any order); `catalog` supplies the categories of affinity. */
export function snapshotHistory(events: readonly Interaction[], catalog: Catalog): HistorySnapshot {
  const ordered = [...events].sort((a, b) => a.occurredAt - b.occurredAt);
  const now = ordered.length > 0 ? (ordered[ordered.length - 1] as Interaction).occurredAt : 0;
  const seenItems = new Map<string, Set<string>>();
  const categoryAffinity = new Map<string, Map<string, number>>();
  const trending = new Map<string, number>();
  const popularity = new Map<string, number>();
  const visitsByUser = new Map<string, Array<{ itemId: string; at: number }>>();

  for (const event of ordered) {
    const { userId, itemId, occurredAt } = event;
    let seen = seenItems.get(userId);
    if (!seen) seenItems.set(userId, (seen = new Set()));
    seen.add(itemId);

    const weight = interactionWeight(event.type, event.value);
    const age = now - occurredAt;
    addTo(trending, itemId, weight * decayWeight(age, TRENDING_HALF_LIFE_DAYS * DAY_MS));
    addTo(popularity, itemId, weight * decayWeight(age, POPULARITY_HALF_LIFE_DAYS * DAY_MS));
    if (weight > 0) {
      let affinity = categoryAffinity.get(userId);
      if (!affinity) categoryAffinity.set(userId, (affinity = new Map()));
      for (const category of new Set(catalog.get(itemId)?.categories ?? [])) {
        addTo(affinity, category, weight * decayWeight(age, AFFINITY_HALF_LIFE_DAYS * DAY_MS));
      }
    }

    let visits = visitsByUser.get(userId);
    if (!visits) visitsByUser.set(userId, (visits = []));
    const last = visits[visits.length - 1];
    // The funnel on one item (view, click, cart…) is one visit.
    if (last?.itemId === itemId) last.at = occurredAt;
    else visits.push({ itemId, at: occurredAt });
  }

  const recentItems = new Map<string, string[]>();
  const coVisits = new Map<string, Map<string, number>>();
  const addCoVisit = (from: string, to: string): void => {
    let neighbours = coVisits.get(from);
    if (!neighbours) coVisits.set(from, (neighbours = new Map()));
    addTo(neighbours, to, 1);
  };
  for (const [userId, visits] of visitsByUser) {
    const recent: string[] = [];
    for (let i = visits.length - 1; i >= 0 && recent.length < RECENT_ITEMS_LIMIT; i--) {
      const itemId = (visits[i] as { itemId: string }).itemId;
      if (!recent.includes(itemId)) recent.push(itemId);
    }
    recentItems.set(userId, recent);
    visits.forEach((visit, i) => {
      for (let j = i + 1; j < Math.min(visits.length, i + 1 + COVISIT_WINDOW); j++) {
        const later = visits[j] as { itemId: string; at: number };
        if (later.at - (visits[j - 1] as { at: number }).at > COVISIT_SESSION_GAP_MS) break;
        if (later.itemId === visit.itemId) continue;
        addCoVisit(visit.itemId, later.itemId);
        addCoVisit(later.itemId, visit.itemId);
      }
    });
  }

  const trendingRanking = [...trending]
    .sort(([aId, a], [bId, b]) => b - a || (aId < bId ? -1 : aId > bId ? 1 : 0))
    .map(([itemId]) => itemId);
  return { now, recentItems, seenItems, categoryAffinity, trending, popularity, trendingRanking, coVisits };
}
