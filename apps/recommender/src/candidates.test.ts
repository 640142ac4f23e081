import { candidatePoolSize, coVisitedBatch, countBySource, mergeCandidates, similarBatch, trendingBatch, withSimilarExplained } from './candidates';

describe('candidate merging', () => {
  it('when several sources propose the same item, it appears once with every reason and each source score', () => {
    const merged = mergeCandidates([
      similarBatch([{ itemId: 'a', score: 0.9, becauseOfItemId: 'r1' }, { itemId: 'b', score: 0.5, becauseOfItemId: 'r2' }]),
      coVisitedBatch([{ itemId: 'a', score: 3, becauseOfItemId: 'r1' }, { itemId: 'a', score: 7, becauseOfItemId: 'r2' }]),
      trendingBatch([{ itemId: 'a', score: 40, becauseOfItemId: '' }, { itemId: 'c', score: 30, becauseOfItemId: '' }]),
      trendingBatch([{ itemId: 'a', score: 12, becauseOfItemId: '' }], 'books'),
    ]);
    expect(merged.map((candidate) => candidate.itemId)).toEqual(['a', 'b', 'c']);
    const [a] = merged;
    expect(a!.reasons).toEqual(['similar-to:r1', 'co-visited:r1', 'co-visited:r2', 'trending', 'trending-in:books']);
    expect(a!.sourceScores).toEqual({ similar: 0.9, 'co-visited': 7, trending: 40 });
    expect(a!.coVisit).toEqual({ sourceItemId: 'r2', score: 7 }); // the best-scoring co-visit source
    expect(merged[1]!.coVisit).toBeUndefined();
  });

  it('when one source repeats an item with the same reason, the reason is kept once and the best score wins', () => {
    const [only] = mergeCandidates([similarBatch([{ itemId: 'x', score: 0.2, becauseOfItemId: 'r' }, { itemId: 'x', score: 0.8, becauseOfItemId: 'r' }])]);
    expect(only).toMatchObject({ reasons: ['similar-to:r'], sourceScores: { similar: 0.8 } });
  });

  it('each item of a batch is explained by its own explaining item', () => {
    const merged = mergeCandidates([
      coVisitedBatch([
        { itemId: 'x', score: 1, becauseOfItemId: 'r1' },
        { itemId: 'y', score: 1, becauseOfItemId: 'r2' },
        { itemId: 'z', score: 1, becauseOfItemId: 'r1' },
        { itemId: 'w', score: 1, becauseOfItemId: '' },
      ]),
    ]);
    expect(merged.map((candidate) => candidate.reasons)).toEqual([['co-visited:r1'], ['co-visited:r2'], ['co-visited:r1'], ['co-visited']]);
  });

  it('an ANN neighbour left unexplained says what it is similar to once explained, and keeps its other reasons', () => {
    const [hit] = mergeCandidates([
      similarBatch([{ itemId: 'x', score: 1, becauseOfItemId: '' }]),
      coVisitedBatch([{ itemId: 'x', score: 2, becauseOfItemId: 'r2' }]),
    ]);
    expect(hit!.reasons).toEqual(['similar-to', 'co-visited:r2']);
    expect(withSimilarExplained(hit!.reasons, () => 'r1')).toEqual(['similar-to:r1', 'co-visited:r2']);
    expect(hit!.reasons).toEqual(['similar-to', 'co-visited:r2']);
    expect(withSimilarExplained(hit!.reasons, () => '')).toEqual(['similar-to', 'co-visited:r2']);
    let asked = 0;
    expect(withSimilarExplained(['co-visited:r2', 'trending'], () => `r${++asked}`)).toEqual(['co-visited:r2', 'trending']);
    expect(asked).toBe(0);
  });

  it('when a source gives no explaining item, the fallback item explains it', () => {
    const [hit] = mergeCandidates([similarBatch([{ itemId: 'x', score: 1, becauseOfItemId: '' }], 'seed')]);
    expect(hit!.reasons).toEqual(['similar-to:seed']);
  });

  it('when a score is not finite or an id is empty, the score counts as 0 and the entry is skipped', () => {
    const merged = mergeCandidates([trendingBatch([{ itemId: 'x', score: Number.NaN, becauseOfItemId: '' }, { itemId: '', score: 1, becauseOfItemId: '' }])]);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.sourceScores.trending).toBe(0);
  });

  it('counts candidates per source and bounds the pool', () => {
    expect(countBySource([similarBatch([{ itemId: 'a', score: 1, becauseOfItemId: '' }]), trendingBatch([])])).toEqual({ similar: 1, 'co-visited': 0, trending: 0 });
    expect(candidatePoolSize(1)).toBe(100);
    expect(candidatePoolSize(100)).toBe(300);
    expect(candidatePoolSize(500)).toBe(1_500);
  });
});
