import { item } from '../test/fakes';
import type { EligibleCandidate } from './filtering';
import { categoryCap, diversify, fallbackScores, firstRanked, indicesBestFirst, rankedByScore, type RankedCandidate } from './ranking';

const eligible = (itemId: string, sourceScores: EligibleCandidate['sourceScores'], categories = ['general']): EligibleCandidate => ({
  itemId,
  sourceScores,
  reasons: [],
  coVisit: undefined,
  item: item(itemId, categories),
});
const ranked = (itemId: string, score: number, category?: string): RankedCandidate => ({
  ...eligible(itemId, {}, category === undefined ? [] : [category]),
  score,
});

describe('ranking', () => {
  it('the fallback blend normalises each source by its best score and weighs similarity highest', () => {
    const scores = fallbackScores([
      eligible('similar-only', { similar: 0.5 }),
      eligible('co-visited-only', { 'co-visited': 100 }),
      eligible('trending-only', { trending: 2_000 }),
      eligible('both', { similar: 0.25, trending: 1_000 }),
    ]);
    expect(scores[0]).toBeCloseTo(0.5);
    expect(scores[1]).toBeCloseTo(0.3);
    expect(scores[2]).toBeCloseTo(0.2);
    expect(scores[3]).toBeCloseTo(0.25 + 0.1);
  });

  it('the fallback blend treats negative similarity as none', () => {
    expect(fallbackScores([eligible('a', { similar: -0.4 }), eligible('b', { similar: 0.2 })])).toEqual([0, 0.5]);
  });

  it('ranks best first, keeping the candidates order on ties', () => {
    const order = [...rankedByScore([eligible('a', {}), eligible('b', {}), eligible('c', {})], [0.1, 0.5, 0.1])].map((c) => c.itemId);
    expect(order).toEqual(['b', 'a', 'c']);
    expect(() => rankedByScore([eligible('a', {})], [])).toThrow('0 scores for 1 candidates');
  });

  it('a non-finite score ranks as 0', () => {
    expect([...indicesBestFirst([Number.NaN, -1, 0.5, Number.POSITIVE_INFINITY, 0])]).toEqual([2, 0, 3, 4, 1]);
    expect([...indicesBestFirst([])]).toEqual([]);
    expect([...rankedByScore([eligible('a', {}), eligible('b', {})], [Number.NaN, -1])].map((c) => c.score)).toEqual([0, -1]);
  });

  it('takes indexes in the order of a stable sort by score, ties and non-finite scores included', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let round = 0; round < 200; round++) {
      const values = [0.5, 0.25, 0, -1, Number.NaN, Number.POSITIVE_INFINITY];
      const scores = Array.from({ length: Math.floor(random() * 60) }, () => (random() < 0.5 ? values[Math.floor(random() * values.length)]! : random()));
      const finite = scores.map((score) => (Number.isFinite(score) ? score : 0));
      const stable = finite.map((_, index) => index).sort((a, b) => finite[b]! - finite[a]! || a - b);
      expect([...indicesBestFirst(scores)]).toEqual(stable);
    }
  });

  it('the ranking is read only as far as it is taken, and refuses mismatched counts at once', () => {
    const candidates = ['a', 'b', 'c', 'd'].map((itemId) => eligible(itemId, {}));
    const scores = [0.2, 0.9, 0.2, 0.5];
    expect([...rankedByScore(candidates, scores)].map((c) => [c.itemId, c.score])).toEqual([['b', 0.9], ['d', 0.5], ['a', 0.2], ['c', 0.2]]);
    const [first] = rankedByScore(candidates, scores);
    expect(first).toMatchObject({ itemId: 'b', score: 0.9 });
    expect(() => rankedByScore(candidates, [1])).toThrow('1 scores for 4 candidates');
  });

  it('takes the first candidates of a ranking, without reading past them', () => {
    const candidates = ['a', 'b', 'c'].map((itemId) => eligible(itemId, {}));
    let read = 0;
    const counted = function* (): Generator<RankedCandidate> {
      for (const candidate of rankedByScore(candidates, [0.1, 0.3, 0.2])) {
        read += 1;
        yield candidate;
      }
    };
    expect(firstRanked(counted(), 2).map((c) => c.itemId)).toEqual(['b', 'c']);
    expect(read).toBe(2);
    expect(firstRanked(rankedByScore(candidates, [0.1, 0.3, 0.2]), 5).map((c) => c.itemId)).toEqual(['b', 'c', 'a']);
    expect(firstRanked(rankedByScore(candidates, [0.1, 0.3, 0.2]), 0)).toEqual([]);
  });

  it('diversifies a lazy ranking as it would the whole list', () => {
    const candidates = [eligible('b1', {}, ['books']), eligible('b2', {}, ['books']), eligible('m1', {}, ['music']), eligible('b3', {}, ['books'])];
    const scores = [9, 8, 1, 7];
    expect(diversify([...rankedByScore(candidates, scores)], 3).map((c) => c.itemId)).toEqual(diversify(rankedByScore(candidates, scores), 3).map((c) => c.itemId));
    expect(diversify(rankedByScore(candidates, scores), 3).map((c) => c.itemId)).toEqual(['b1', 'b2', 'm1']);
  });

  it('when one category dominates and others exist, at most ceil(count/2) of it are taken', () => {
    const list = [ranked('b1', 9, 'books'), ranked('b2', 8, 'books'), ranked('b3', 7, 'books'), ranked('b4', 6, 'books'), ranked('m1', 5, 'music'), ranked('g1', 4, 'games')];
    expect(categoryCap(4)).toBe(2);
    expect(diversify(list, 4).map((c) => c.itemId)).toEqual(['b1', 'b2', 'm1', 'g1']);
  });

  it('when too few other items exist, capped items fill up after the rest', () => {
    const list = [ranked('b1', 9, 'books'), ranked('b2', 8, 'books'), ranked('b3', 7, 'books'), ranked('m1', 5, 'music')];
    expect(diversify(list, 4).map((c) => c.itemId)).toEqual(['b1', 'b2', 'm1', 'b3']);
  });

  it('items without a category are never capped', () => {
    const list = [ranked('u1', 9), ranked('u2', 8), ranked('u3', 7)];
    expect(diversify(list, 2).map((c) => c.itemId)).toEqual(['u1', 'u2']);
  });
});
