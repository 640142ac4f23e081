import { EventType } from '@orrery/proto';
import { coVisitPartners } from './covisit';
import { decodeRecentEntry, encodeRecentEntry, type RecentEntry } from './recent';
import { interactionWeight } from './weights';

const MINUTE = 60_000;
const t0 = Date.UTC(2025, 5, 1);
const options = { windowMs: 30 * MINUTE, maxPartners: 10 };

function entry(sequence: number, itemId: string, type: EventType, minutes: number, value = 0): RecentEntry {
  return { sequence: BigInt(sequence), itemId, type, occurredMs: t0 + minutes * MINUTE, value };
}

describe('event weights', () => {
  it('when interactions are weighed, stronger intent weighs more and dislikes nothing', () => {
    expect([EventType.VIEW, EventType.CLICK, EventType.ADD_TO_CART, EventType.PURCHASE, EventType.LIKE].map((type) => interactionWeight(type, 0))).toEqual([1, 2, 4, 8, 4]);
    expect(interactionWeight(EventType.RATING, 4.5)).toBe(4.5);
    expect(interactionWeight(EventType.RATING, -3)).toBe(0);
    expect(interactionWeight(EventType.RATING, 1e9)).toBe(10);
    expect(interactionWeight(EventType.DISLIKE, 5)).toBe(0);
  });
});

describe('co-visitation pairing', () => {
  it('when a user views items in one session, the new item pairs with the earlier ones, weighted by both types', () => {
    const history = [entry(3, 'c', EventType.PURCHASE, 10), entry(2, 'b', EventType.VIEW, 5), entry(1, 'a', EventType.VIEW, 0)];
    const partners = coVisitPartners(entry(4, 'd', EventType.VIEW, 12), history, options);
    expect(partners).toEqual([
      { itemId: 'c', weight: Math.sqrt(8) },
      { itemId: 'b', weight: 1 },
      { itemId: 'a', weight: 1 },
    ]);
  });

  it('when earlier interactions fall outside the session window, they are not paired', () => {
    const history = [entry(2, 'b', EventType.VIEW, 50), entry(1, 'a', EventType.VIEW, 0)];
    expect(coVisitPartners(entry(3, 'c', EventType.VIEW, 60), history, options).map((partner) => partner.itemId)).toEqual(['b']);
  });

  it('when the same item or a disliked one is in the history, it is not a partner; repeated items pair once at their strongest', () => {
    const history = [entry(4, 'x', EventType.DISLIKE, 4), entry(3, 'a', EventType.VIEW, 3), entry(2, 'z', EventType.VIEW, 2), entry(1, 'a', EventType.ADD_TO_CART, 1)];
    expect(coVisitPartners(entry(5, 'z', EventType.CLICK, 5), history, options)).toEqual([{ itemId: 'a', weight: Math.sqrt(8) }]);
    expect(coVisitPartners(entry(6, 'q', EventType.DISLIKE, 6), history, options)).toEqual([]);
  });

  it('when the history already holds this event and later ones (a replay), the partners are the same as the first time', () => {
    const before = [entry(2, 'b', EventType.VIEW, 2), entry(1, 'a', EventType.VIEW, 1)];
    const current = entry(3, 'c', EventType.CLICK, 3);
    const replayed = [entry(5, 'e', EventType.VIEW, 5), entry(4, 'd', EventType.VIEW, 4), current, ...before];
    expect(coVisitPartners(current, replayed, options)).toEqual(coVisitPartners(current, before, options));
  });

  it('when there are more earlier items than the partner limit, only the most recent ones pair', () => {
    const history = Array.from({ length: 15 }, (_, index) => entry(15 - index, `item-${15 - index}`, EventType.VIEW, 15 - index));
    const partners = coVisitPartners(entry(16, 'new', EventType.VIEW, 16), history, { ...options, maxPartners: 3 });
    expect(partners.map((partner) => partner.itemId)).toEqual(['item-15', 'item-14', 'item-13']);
  });
});

describe('co-visitation look-back', () => {
  it('when a session-window match sits deeper than the look-back, it does not pair, however much history is given', () => {
    // Timestamps out of order: the oldest entry is in the window of the new one, 31 others are not.
    const history = [...Array.from({ length: 31 }, (_, index) => entry(32 - index, `far-${index}`, EventType.VIEW, 600 + index)), entry(1, 'near', EventType.VIEW, 0)];
    expect(coVisitPartners(entry(33, 'new', EventType.VIEW, 1), history, options)).toEqual([]);
    expect(coVisitPartners(entry(33, 'new', EventType.VIEW, 1), history, { ...options, lookBack: 32 })).toEqual([{ itemId: 'near', weight: 1 }]);
  });
});

describe('recent list entries', () => {
  it('when an entry is encoded and decoded, it is unchanged, even with | in the item id', () => {
    const original = entry(123456789, 'shop|sku-1', EventType.RATING, 7, 4.5);
    expect(decodeRecentEntry(encodeRecentEntry(original))).toEqual(original);
    expect(encodeRecentEntry(entry(1, 'i', EventType.VIEW, 0)).length).toBeLessThan(20);
  });

  it('when a sequence is beyond 2^53, it decodes exactly', () => {
    const original = { ...entry(1, 'item', EventType.VIEW, 0), sequence: 2n ** 62n + 12_345n };
    expect(decodeRecentEntry(encodeRecentEntry(original))).toEqual(original);
  });

  it('when a list value is malformed, it decodes to nothing instead of failing', () => {
    expect(decodeRecentEntry('garbage')).toBeUndefined();
    expect(decodeRecentEntry('!!|1|abc||item')).toBeUndefined();
  });
});
