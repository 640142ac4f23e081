import type { RecentEntry } from './recent';
import { interactionWeight } from './weights';

export interface CoVisitOptions {
  /** The session window: interactions further apart than this are not co-visits. */
  readonly windowMs: number;
  /** At most this many distinct partner items per new interaction. */
  readonly maxPartners: number;
  /** At most this many earlier interactions are looked at (default coVisitLookBack(maxPartners)). */
  readonly lookBack?: number;
}

/**
 * How many earlier interactions a new one may pair with: 3 per partner (repeats and zero-weight ones
 * take places), never more than a user's recent list holds. A fixed depth keeps a plan independent of
 * how deep a batch's snapshot read: with out-of-order timestamps a session-window match can sit anywhere.
 */
export function coVisitLookBack(maxPartners: number, recentLimit = Infinity): number {
  return Math.min(maxPartners * 3, recentLimit);
}

/** An item the new interaction is co-visited with, and the weight of the pair (before decay). */
export interface CoVisitPartner {
  readonly itemId: string;
  readonly weight: number;
}

/**
 * The items a user's new interaction pairs with: walking the user's history newest first, the
 * first `maxPartners` distinct other items that came before it (lower sequence — so a replay over a
 * history that already holds this event and later ones gives the same answer) and occurred within
 * the session window of it, among the `lookBack` newest of those earlier ones. A pair weighs the
 * geometric mean of the two interactions' weights (VIEW+VIEW 1, VIEW+PURCHASE ≈2.8,
 * PURCHASE+PURCHASE 8); zero-weight interactions (DISLIKE) pair with nothing. An item met several
 * times keeps its strongest pair.
 */
export function coVisitPartners(current: RecentEntry, historyNewestFirst: readonly RecentEntry[], options: CoVisitOptions): CoVisitPartner[] {
  const currentWeight = interactionWeight(current.type, current.value);
  if (currentWeight <= 0 || options.maxPartners <= 0) return [];
  const partners = new Map<string, number>();
  let lookBack = options.lookBack ?? coVisitLookBack(options.maxPartners);
  for (const entry of historyNewestFirst) {
    if (entry.sequence >= current.sequence) continue;
    if (lookBack-- <= 0) break;
    if (entry.itemId === current.itemId) continue;
    if (Math.abs(current.occurredMs - entry.occurredMs) > options.windowMs) continue;
    const weight = interactionWeight(entry.type, entry.value);
    if (weight <= 0) continue;
    const pairWeight = Math.sqrt(currentWeight * weight);
    const known = partners.get(entry.itemId);
    if (known !== undefined) {
      if (pairWeight > known) partners.set(entry.itemId, pairWeight);
      continue;
    }
    if (partners.size >= options.maxPartners) break;
    partners.set(entry.itemId, pairWeight);
  }
  return [...partners].map(([itemId, weight]) => ({ itemId, weight }));
}
