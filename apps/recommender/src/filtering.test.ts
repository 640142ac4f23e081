import { item } from '../test/fakes';
import type { Candidate } from './candidates';
import { eligibleCandidates, isEligible, withoutItemIds } from './filtering';
import { NO_FILTER, type ItemFilter } from './validation';

const candidate = (itemId: string): Candidate => ({ itemId, sourceScores: { trending: 1 }, reasons: ['trending'], coVisit: undefined });
const filter = (overrides: Partial<ItemFilter>): ItemFilter => ({ ...NO_FILTER, ...overrides });

describe('filtering', () => {
  it('when an item is hidden or unknown to the catalog, it is not eligible', () => {
    expect(isEligible(item('a', ['x'], { hidden: true }), NO_FILTER)).toBe(false);
    expect(isEligible(item('a', ['x'], { exists: false }), NO_FILTER)).toBe(false);
    expect(isEligible(undefined, NO_FILTER)).toBe(false);
    expect(isEligible(item('a', ['x']), NO_FILTER)).toBe(true);
  });

  it('when the caller includes categories, an item must have one of them', () => {
    const books = filter({ includeCategories: new Set(['books', 'music']) });
    expect(isEligible(item('a', ['games', 'music']), books)).toBe(true);
    expect(isEligible(item('b', ['games']), books)).toBe(false);
    expect(isEligible(item('c', []), books)).toBe(false);
  });

  it('when the caller excludes a category or an item, items having it are dropped', () => {
    const noGames = filter({ excludeCategories: new Set(['games']), excludeItemIds: new Set(['z']) });
    expect(isEligible(item('a', ['books', 'games']), noGames)).toBe(false);
    expect(isEligible(item('z', ['books']), noGames)).toBe(false);
    expect(isEligible(item('b', ['books']), noGames)).toBe(true);
  });

  it('keeps eligible candidates in order with their facts (looked up in the same order), dropping excluded ids before', () => {
    const items = [item('a'), item('b', ['x'], { hidden: true }), item('c'), item('d', ['games']), undefined];
    const kept = eligibleCandidates(['a', 'b', 'c', 'd', 'unknown'].map(candidate), items, filter({ excludeCategories: new Set(['games']) }));
    expect(kept.map((eligible) => eligible.itemId)).toEqual(['a', 'c']);
    expect(kept[1]!.item).toBe(items[2]);
    // Facts answered out of order are none: the candidate is dropped, never shown with another item's facts.
    expect(eligibleCandidates(['a', 'b'].map(candidate), [item('b'), item('a')], NO_FILTER)).toEqual([]);
    expect(withoutItemIds(['a', 'seen'].map(candidate), new Set(['seen'])).map((c) => c.itemId)).toEqual(['a']);
  });
});
