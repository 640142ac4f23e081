import { createSeededRandom, exportRankerToOnnx, RANKING_FEATURES, scoreWithRanker, trainRanker } from '@orrery/ml';
import { loadOnnxRanker } from './onnx-ranker-session';
import { FOLD_IN_RECENT_LIMIT, rawItemVectors, recentItemWeights } from './serving';

describe('recentItemWeights', () => {
  it('weighs newer items more, counts a repeated item once, and keeps at most the limit', () => {
    const weights = recentItemWeights(['c', 'b', 'c', 'a', ...Array.from({ length: 30 }, (_, i) => `old-${i}`)]);
    expect(weights.slice(0, 3).map((entry) => entry.itemId)).toEqual(['c', 'b', 'a']);
    expect(weights[0]?.weight).toBe(1);
    expect(weights[1]?.weight).toBeLessThan(1);
    expect((weights[2]?.weight ?? 1) < (weights[1]?.weight ?? 0)).toBe(true);
    expect(weights).toHaveLength(FOLD_IN_RECENT_LIMIT);
  });
});

describe('rawItemVectors', () => {
  it('scales each unit row by its norm', () => {
    const raw = rawItemVectors({ factors: 2, itemIds: ['a', 'b'], itemVectors: new Float32Array([1, 0, 0.6, 0.8]), itemNorms: new Float32Array([2, 5]) });
    expect(Array.from(raw)).toEqual([2, 0, 3, 4]);
  });
});

describe('loadOnnxRanker', () => {
  it('scores a batch exactly as the TypeScript ranker does', async () => {
    const random = createSeededRandom(3);
    const featureCount = RANKING_FEATURES.length;
    const n = 400;
    const rows = Float32Array.from({ length: n * featureCount }, () => random.normal());
    const labels = Uint8Array.from({ length: n }, (_, i) => ((rows[i * featureCount] as number) + 0.5 * random.normal() > 0 ? 1 : 0));
    const model = trainRanker(rows, labels, featureCount);
    const ranker = await loadOnnxRanker(exportRankerToOnnx(model));
    try {
      expect(ranker.featureCount).toBe(featureCount);
      const batch = rows.subarray(0, 50 * featureCount);
      const onnxScores = await ranker.score(batch, 50);
      const expected = scoreWithRanker(model, batch);
      expect(onnxScores).toHaveLength(50);
      onnxScores.forEach((score, i) => expect(Math.abs(score - (expected[i] as number))).toBeLessThan(1e-5));
      await expect(ranker.score(batch, 49)).rejects.toThrow(/rows/);
    } finally {
      await ranker.release();
    }
  });
});
