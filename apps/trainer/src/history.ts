// What the read side would hold at the end of an interaction log, computed the projector's way
// (libs/projections weights, co-visit pairing and the half-lives of config.projection): per-user
// recent items, seen set and category affinity, per-item decayed popularity and interaction count,
// trending rankings and item-to-item co-visits. The trainer builds ranking features from this
// snapshot as the recommender builds them from the projections, so training matches serving.

import type { ProjectionConfig } from '@orrery/config';
import type { Interaction } from '@orrery/ml';
import { coVisitPartners, halfLifeMs, interactionWeight, type RecentEntry } from '@orrery/projections';
import { EventType } from '@orrery/proto';

/** Catalog facts of one item (the `items` table). */
export interface CatalogItem {
  /** Main category first. */
  readonly categories: readonly string[];
  /** Epoch ms, or undefined when unknown. */
  readonly publishedAt: number | undefined;
  readonly hidden: boolean;
}

export type Catalog = ReadonlyMap<string, CatalogItem>;

/**
 * Whether serving could show an item, by `catalog`: listed (a deleted item leaves the `items` table) and
 * not hidden. With no catalog at all (events only) nothing can be checked, so every item can. The one rule
 * of the trainer's candidates, its retrieval evaluation and its popularity baseline.
 */
export function servableIn(catalog: Catalog): (itemId: string) => boolean {
  if (catalog.size === 0) return () => true;
  return (itemId) => {
    const item = catalog.get(itemId);
    return item !== undefined && !item.hidden;
  };
}

/** Recent interactions the recommender reads per user (its GetUserContext recent_limit). */
export const RECENT_INTERACTIONS_READ = 20;

/** The state of the read side after a log, at `now` (its newest event). */
export interface HistorySnapshot {
  readonly now: number;
  /** Distinct item ids of each user's last RECENT_INTERACTIONS_READ interactions, newest first. */
  readonly recentItems: ReadonlyMap<string, readonly string[]>;
  /** Each user's most recent `seenLimit` distinct items. */
  readonly seenItems: ReadonlyMap<string, ReadonlySet<string>>;
  /** Category → decayed affinity, per user. */
  readonly categoryAffinity: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Item → decayed popularity (trending half-life). */
  readonly popularity: ReadonlyMap<string, number>;
  /** Item → lifetime interaction count. */
  readonly interactions: ReadonlyMap<string, number>;
  /** Visible item ids by descending popularity, overall. */
  readonly trending: readonly string[];
  /** The same per category. */
  readonly trendingByCategory: ReadonlyMap<string, readonly string[]>;
  /** Item → co-visited item → decayed co-visit score (symmetric), best first. */
  readonly coVisits: ReadonlyMap<string, ReadonlyArray<readonly [itemId: string, score: number]>>;
}

/** The projections' event type of an interaction type name (same names, see libs/ml interactions.ts). */
export function eventTypeOf(interaction: Interaction): EventType {
  return EventType[interaction.type];
}

function addTo<K>(map: Map<K, number>, key: K, amount: number): void {
  map.set(key, (map.get(key) ?? 0) + amount);
}

function byScoreDescending(entries: Iterable<readonly [string, number]>): Array<readonly [string, number]> {
  return [...entries].sort(([aId, a], [bId, b]) => b - a || (aId < bId ? -1 : aId > bId ? 1 : 0));
}

/**
 * Builds the snapshot of `events` (any order) with the projector's settings. An item of
 * `deletedItems` (deleted from the catalog) is co-visited with nothing, as the projector leaves it:
 * its deletion removed the pairs made before it, and a pairing after it drops it, while it still takes
 * its place among the partners of the interaction (apps/projector plan.ts, planInteraction). When it
 * was deleted is not known here; the projector's result does not depend on it.
 */
export function snapshotHistory(events: readonly Interaction[], catalog: Catalog, config: ProjectionConfig, deletedItems: ReadonlySet<string> = new Set()): HistorySnapshot {
  const ordered = [...events].sort((a, b) => a.occurredAt - b.occurredAt);
  const now = ordered.length > 0 ? (ordered[ordered.length - 1] as Interaction).occurredAt : 0;
  const decay = (hours: number, at: number): number => Math.pow(0.5, (now - at) / halfLifeMs(hours));
  const coVisitOptions = { windowMs: config.coVisitWindowSeconds * 1_000, maxPartners: config.coVisitPartners };

  const historyByUser = new Map<string, RecentEntry[]>();
  const categoryAffinity = new Map<string, Map<string, number>>();
  const popularity = new Map<string, number>();
  const interactions = new Map<string, number>();
  const coVisitScores = new Map<string, Map<string, number>>();
  const addCoVisit = (from: string, to: string, score: number): void => {
    let neighbours = coVisitScores.get(from);
    if (!neighbours) coVisitScores.set(from, (neighbours = new Map()));
    addTo(neighbours, to, score);
  };

  ordered.forEach((event, sequence) => {
    const entry: RecentEntry = { sequence: BigInt(sequence), type: eventTypeOf(event), value: event.value, occurredMs: event.occurredAt, itemId: event.itemId };
    let history = historyByUser.get(event.userId);
    if (!history) historyByUser.set(event.userId, (history = []));
    addTo(interactions, event.itemId, 1);
    const weight = interactionWeight(entry.type, entry.value);
    if (weight > 0) {
      let affinity = categoryAffinity.get(event.userId);
      if (!affinity) categoryAffinity.set(event.userId, (affinity = new Map()));
      for (const category of catalog.get(event.itemId)?.categories ?? []) {
        addTo(affinity, category, weight * decay(config.affinityHalfLifeHours, event.occurredAt));
      }
      addTo(popularity, event.itemId, weight * decay(config.trendingHalfLifeHours, event.occurredAt));
    }
    // The projector pairs with its recent list (newest first); only the session window can pair.
    const newestFirst: RecentEntry[] = [];
    for (let i = history.length - 1; i >= 0 && newestFirst.length < config.recentLimit; i--) {
      const earlier = history[i] as RecentEntry;
      if (event.occurredAt - earlier.occurredMs > coVisitOptions.windowMs) break;
      newestFirst.push(earlier);
    }
    for (const partner of deletedItems.has(event.itemId) ? [] : coVisitPartners(entry, newestFirst, coVisitOptions)) {
      if (deletedItems.has(partner.itemId)) continue;
      const score = partner.weight * decay(config.coVisitHalfLifeHours, event.occurredAt);
      addCoVisit(event.itemId, partner.itemId, score);
      addCoVisit(partner.itemId, event.itemId, score);
    }
    history.push(entry);
  });

  const recentItems = new Map<string, string[]>();
  const seenItems = new Map<string, Set<string>>();
  for (const [userId, history] of historyByUser) {
    const recent = new Set<string>();
    for (let i = history.length - 1; i >= Math.max(0, history.length - RECENT_INTERACTIONS_READ); i--) recent.add((history[i] as RecentEntry).itemId);
    recentItems.set(userId, [...recent]);
    const seen = new Set<string>();
    for (let i = history.length - 1; i >= 0 && seen.size < config.seenLimit; i--) seen.add((history[i] as RecentEntry).itemId);
    seenItems.set(userId, seen);
  }

  const visible = byScoreDescending(popularity).filter(([itemId]) => !(catalog.get(itemId)?.hidden ?? false));
  const trendingByCategory = new Map<string, string[]>();
  for (const [itemId] of visible) {
    for (const category of catalog.get(itemId)?.categories ?? []) {
      let ranking = trendingByCategory.get(category);
      if (!ranking) trendingByCategory.set(category, (ranking = []));
      if (ranking.length < config.trendingLimit) ranking.push(itemId);
    }
  }
  const coVisits = new Map<string, Array<readonly [string, number]>>();
  for (const [itemId, neighbours] of coVisitScores) coVisits.set(itemId, byScoreDescending(neighbours).slice(0, config.coVisitLimit));

  return {
    now,
    recentItems,
    seenItems,
    categoryAffinity,
    popularity,
    interactions,
    trending: visible.slice(0, config.trendingLimit).map(([itemId]) => itemId),
    trendingByCategory,
    coVisits,
  };
}
