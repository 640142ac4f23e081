// The held-out split used by the trainer's evaluation and by the tests: predict each user's next item.

import type { Interaction } from './interactions';

/** Events split into what a model may learn from and what it must predict. */
export interface LeaveLastOutSplit<T extends Interaction> {
  readonly train: T[];
  /** One event per evaluated user: their last interaction by time. */
  readonly test: T[];
}

/**
 * Holds out each user's last interaction (users with ≥ `minEvents` events, default 3). That user's
 * earlier interactions with the held-out item are dropped from train too, so the test item is one
 * the model has not seen for them; other users keep everything. Input order is kept.
 */
export function splitLeaveLastOut<T extends Interaction>(
  events: readonly T[],
  minEvents = 3,
): LeaveLastOutSplit<T> {
  const lastByUser = new Map<string, { event: T; count: number }>();
  for (const event of events) {
    const entry = lastByUser.get(event.userId);
    if (!entry) lastByUser.set(event.userId, { event, count: 1 });
    else {
      entry.count++;
      // Ties keep the later one in input order, so a time-sorted log holds out its final line.
      if (event.occurredAt >= entry.event.occurredAt) entry.event = event;
    }
  }
  const heldOutItem = new Map<string, string>();
  const test: T[] = [];
  for (const [userId, { event, count }] of lastByUser) {
    if (count < minEvents) continue;
    heldOutItem.set(userId, event.itemId);
    test.push(event);
  }
  const train = events.filter((event) => heldOutItem.get(event.userId) !== event.itemId);
  test.sort((a, b) => a.occurredAt - b.occurredAt);
  return { train, test };
}
