import { EventType } from '@orrery/proto';

/** Ratings count as their value, capped so one outlier cannot dominate. */
export const MAX_RATING_WEIGHT = 10;

/**
 * How strongly an interaction signals interest: VIEW 1, CLICK 2, ADD_TO_CART 4, PURCHASE 8, LIKE 4,
 * RATING its value (clamped to 0..10), DISLIKE and UNSPECIFIED 0 (they never raise a score;
 * decayed scores are kept in log space, which holds no negative terms — see decay.ts).
 */
export function interactionWeight(type: EventType, value: number): number {
  switch (type) {
    case EventType.VIEW:
      return 1;
    case EventType.CLICK:
      return 2;
    case EventType.ADD_TO_CART:
      return 4;
    case EventType.PURCHASE:
      return 8;
    case EventType.LIKE:
      return 4;
    case EventType.RATING:
      return Number.isFinite(value) ? Math.min(MAX_RATING_WEIGHT, Math.max(0, value)) : 0;
    case EventType.DISLIKE:
    case EventType.UNSPECIFIED:
      return 0;
    default: {
      // A type newer than this code (proto evolves first) carries no weight until it is given one.
      const unknown: never = type;
      void unknown;
      return 0;
    }
  }
}

/** The name an event type is counted under in a user's stats (`VIEW`, `ADD_TO_CART`, …). */
export function eventTypeName(type: EventType): string {
  return EventType[type] ?? 'UNSPECIFIED';
}

/** Every countable event type name (the fields of a user's stats hash besides last_active). */
export const EVENT_TYPE_NAMES: readonly string[] = Object.values(EventType)
  .filter((value): value is EventType => typeof value === 'number' && value !== EventType.UNSPECIFIED)
  .map(eventTypeName);
