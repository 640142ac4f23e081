import type { Interaction, InteractionType } from './interactions';
import { splitLeaveLastOut } from './leave-last-out';

const event = (userId: string, itemId: string, occurredAt: number, type: InteractionType = 'VIEW'): Interaction => ({
  userId,
  itemId,
  type,
  value: 0,
  occurredAt,
});

describe('splitLeaveLastOut', () => {
  it("when a user has three or more events, their last one by time is held out", () => {
    const events = [event('u1', 'a', 1), event('u1', 'c', 5), event('u1', 'b', 3)];
    const { train, test } = splitLeaveLastOut(events);
    expect(test).toEqual([event('u1', 'c', 5)]);
    expect(train).toEqual([event('u1', 'a', 1), event('u1', 'b', 3)]);
  });

  it('when a user has fewer than three events, all of them stay in train', () => {
    const events = [event('u1', 'a', 1), event('u1', 'b', 2)];
    expect(splitLeaveLastOut(events)).toEqual({ train: events, test: [] });
  });

  it("when the held-out item was seen earlier by the same user, those earlier events leave train too", () => {
    const events = [
      event('u1', 'a', 1),
      event('u1', 'x', 2),
      event('u1', 'b', 3),
      event('u1', 'x', 4, 'PURCHASE'),
      event('u2', 'x', 1),
    ];
    const { train, test } = splitLeaveLastOut(events);
    expect(test).toEqual([event('u1', 'x', 4, 'PURCHASE')]);
    expect(train).toEqual([event('u1', 'a', 1), event('u1', 'b', 3), event('u2', 'x', 1)]);
  });
});
