// The interaction vocabulary shared by the generator, the learners and the baselines, and the one
// place that turns an event into implicit-feedback weight.

/** Event types, named as orrery.v1.EventType without the EVENT_TYPE_ prefix. */
export type InteractionType =
  | 'VIEW'
  | 'CLICK'
  | 'ADD_TO_CART'
  | 'PURCHASE'
  | 'RATING'
  | 'LIKE'
  | 'DISLIKE';

/** Every interaction type, in proto enum order. */
export const INTERACTION_TYPES: readonly InteractionType[] = [
  'VIEW',
  'CLICK',
  'ADD_TO_CART',
  'PURCHASE',
  'RATING',
  'LIKE',
  'DISLIKE',
];

/** One user–item interaction, the input of every learner here. */
export interface Interaction {
  readonly userId: string;
  readonly itemId: string;
  readonly type: InteractionType;
  /** Rating value for RATING (1–5); ignored by the weights of other types. */
  readonly value: number;
  /** Epoch milliseconds. */
  readonly occurredAt: number;
}

/**
 * Default implicit-feedback weight of each type. RATING is the weight of a 5-star rating (see
 * `interactionWeight`); DISLIKE is negative, so it cancels the views that preceded it.
 */
export const EVENT_TYPE_WEIGHTS: Readonly<Record<InteractionType, number>> = {
  VIEW: 1,
  CLICK: 2,
  ADD_TO_CART: 4,
  PURCHASE: 8,
  RATING: 6,
  LIKE: 4,
  DISLIKE: -6,
};

/** Milliseconds in a day, for options expressed in days. */
export const DAY_MS = 86_400_000;

/**
 * Weight of one event: the type's weight, and for RATING scaled by (value − 2.5) / 2.5, so 5 stars
 * gives the full weight, 3 stars a little and 1–2 stars a negative weight.
 */
export function interactionWeight(
  type: InteractionType,
  value: number,
  weights: Readonly<Record<InteractionType, number>> = EVENT_TYPE_WEIGHTS,
): number {
  switch (type) {
    case 'RATING':
      return weights.RATING * ((Math.min(5, Math.max(1, value)) - 2.5) / 2.5);
    case 'VIEW':
    case 'CLICK':
    case 'ADD_TO_CART':
    case 'PURCHASE':
    case 'LIKE':
    case 'DISLIKE':
      return weights[type];
    default: {
      const unknown: never = type;
      throw new Error(`unknown interaction type ${String(unknown)}`);
    }
  }
}

/** Exponential decay factor 0.5^(age / halfLife); 1 for a non-positive age or an infinite half-life. */
export function decayWeight(ageMs: number, halfLifeMs: number): number {
  if (ageMs <= 0 || !Number.isFinite(halfLifeMs)) return 1;
  return Math.pow(0.5, ageMs / halfLifeMs);
}

/** Item ids each user interacted with in `interactions`. */
export function seenItemsByUser(interactions: readonly Interaction[]): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>();
  for (const { userId, itemId } of interactions) {
    let items = seen.get(userId);
    if (!items) seen.set(userId, (items = new Set()));
    items.add(itemId);
  }
  return seen;
}
