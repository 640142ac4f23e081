import { EventType } from '@orrery/proto';

/** How the events table spells an event type (CHECK constraint in 001_event_store.sql). */
export type StoredEventType = 'view' | 'click' | 'add_to_cart' | 'purchase' | 'rating' | 'like' | 'dislike';

/** The stored name of a (specified) event type; throws on UNSPECIFIED or unknown numbers. */
export function storedEventType(type: EventType): StoredEventType {
  switch (type) {
    case EventType.VIEW:
      return 'view';
    case EventType.CLICK:
      return 'click';
    case EventType.ADD_TO_CART:
      return 'add_to_cart';
    case EventType.PURCHASE:
      return 'purchase';
    case EventType.RATING:
      return 'rating';
    case EventType.LIKE:
      return 'like';
    case EventType.DISLIKE:
      return 'dislike';
    case EventType.UNSPECIFIED:
      throw new Error('event type must be specified');
    default: {
      const unknown: never = type;
      throw new Error(`unknown event type ${String(unknown)}`);
    }
  }
}

/** The event type of a stored name (for readers of the events table, e.g. the trainer). */
export function eventTypeFromStored(name: StoredEventType): EventType {
  switch (name) {
    case 'view':
      return EventType.VIEW;
    case 'click':
      return EventType.CLICK;
    case 'add_to_cart':
      return EventType.ADD_TO_CART;
    case 'purchase':
      return EventType.PURCHASE;
    case 'rating':
      return EventType.RATING;
    case 'like':
      return EventType.LIKE;
    case 'dislike':
      return EventType.DISLIKE;
    default: {
      const unknown: never = name;
      throw new Error(`unknown stored event type ${String(unknown)}`);
    }
  }
}
