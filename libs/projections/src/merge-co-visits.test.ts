import { mergeCoVisits, mergeCoVisitsAs } from './merge-co-visits';

describe('merging co-visits of several items', () => {
  it('when a candidate is co-visited with several sources, its scores add up and the strongest source explains it', () => {
    const merged = mergeCoVisits(
      new Map([
        ['a', [{ itemId: 'x', score: 1 }, { itemId: 'y', score: 3 }]],
        ['b', [{ itemId: 'x', score: 2.5 }]],
      ]),
    );
    expect(merged).toEqual([
      { itemId: 'x', score: 3.5, sourceItemId: 'b' },
      { itemId: 'y', score: 3, sourceItemId: 'a' },
    ]);
  });

  it('when sources are co-visited with each other, they are left out of the answer', () => {
    const merged = mergeCoVisits(
      new Map([
        ['a', [{ itemId: 'b', score: 9 }, { itemId: 'z', score: 1 }]],
        ['b', [{ itemId: 'a', score: 9 }]],
      ]),
    );
    expect(merged.map((item) => item.itemId)).toEqual(['z']);
  });

  it('when scores tie, the order is by item id', () => {
    const merged = mergeCoVisits(new Map([['a', [{ itemId: 'q', score: 1 }, { itemId: 'p', score: 1 }]]]));
    expect(merged.map((item) => item.itemId)).toEqual(['p', 'q']);
  });

  it('merges into the caller\'s own shape in the same order', () => {
    const bySource = new Map([
      ['a', [{ itemId: 'x', score: 1 }, { itemId: 'y', score: 3 }]],
      ['b', [{ itemId: 'x', score: 2.5 }, { itemId: 'w', score: 3 }]],
    ]);
    const shaped = mergeCoVisitsAs(bySource, (itemId, score, because) => ({ itemId, score, because }));
    expect(shaped).toEqual(mergeCoVisits(bySource).map(({ itemId, score, sourceItemId }) => ({ itemId, score, because: sourceItemId })));
    expect(shaped.map((item) => item.itemId)).toEqual(['x', 'w', 'y']);
  });
});
