import { createSeededRandom } from './random';
import { trainRanker, scoreWithRanker } from './ranker';
import { RANKING_FEATURES, RANKING_FEATURE_SCHEMA, featureSchemaOf } from './ranking-features';

/** n rows of [signal, signal2, noise] labelled by a linear rule on the first two columns. */
function toyProblem(n: number, seed: number): { rows: Float32Array; labels: Uint8Array } {
  const random = createSeededRandom(seed);
  const rows = new Float32Array(n * 3);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = random.normal();
    const b = random.normal();
    rows.set([a, b, random.normal()], i * 3);
    labels[i] = a + 2 * b > 0.5 ? 1 : 0;
  }
  return { rows, labels };
}

const toyNames = ['signal', 'signal2', 'noise'];

describe('trainRanker', () => {
  it('when the classes are linearly separable, it classifies unseen points correctly', () => {
    const { rows, labels } = toyProblem(2000, 1);
    const model = trainRanker(rows, labels, 3, { featureNames: toyNames });
    const heldOut = toyProblem(1000, 2);
    const scores = scoreWithRanker(model, heldOut.rows);
    const correct = heldOut.labels.filter((label, i) => (scores[i] as number) > 0.5 === (label === 1)).length;
    expect(correct / heldOut.labels.length).toBeGreaterThan(0.99);
    // The learned boundary is a + 2b = 0.5: weights in ratio 1:2, noise ignored.
    const [a, b, noise] = Array.from(model.weights) as [number, number, number];
    expect(b / a).toBeCloseTo(2, 1);
    expect(Math.abs(noise)).toBeLessThan(0.05 * Math.abs(a));
  });

  it('when features are shifted and scaled, the predictions are the same (standardisation is folded in)', () => {
    const { rows, labels } = toyProblem(2000, 3);
    const original = trainRanker(rows, labels, 3, { featureNames: toyNames, l2: 1e-2 });
    const transformed = rows.map((value, k) => (k % 3 === 0 ? value * 1000 + 500 : k % 3 === 1 ? value * 0.001 : value));
    const rescaled = trainRanker(transformed, labels, 3, { featureNames: toyNames, l2: 1e-2 });
    const before = scoreWithRanker(original, rows);
    const after = scoreWithRanker(rescaled, transformed);
    for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(before[i] as number, 3);
  });

  it('when labels are noisy, the scores are calibrated probabilities', () => {
    const random = createSeededRandom(9);
    const n = 20000;
    const rows = new Float32Array(n);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      rows[i] = random.normal();
      labels[i] = random.next() < 1 / (1 + Math.exp(-(2 * (rows[i] as number) - 1))) ? 1 : 0;
    }
    const model = trainRanker(rows, labels, 1, { featureNames: ['x'] });
    // Generated with P(1) = sigmoid(2x − 1).
    expect(Math.abs((model.weights[0] as number) - 2)).toBeLessThan(0.15);
    expect(Math.abs(model.bias + 1)).toBeLessThan(0.15);
  });

  it('when a column is constant, it gets no weight and training still converges', () => {
    const { rows, labels } = toyProblem(500, 4);
    const withConstant = rows.map((value, k) => (k % 3 === 2 ? 7 : value));
    const model = trainRanker(withConstant, labels, 3, { featureNames: toyNames });
    expect(model.weights[2]).toBe(0);
    expect(Number.isFinite(model.bias)).toBe(true);
  });

  it('when trained on the ranking features, the model carries RANKING_FEATURE_SCHEMA', () => {
    const random = createSeededRandom(5);
    const rows = Float32Array.from({ length: 100 * RANKING_FEATURES.length }, () => random.normal());
    const labels = Uint8Array.from({ length: 100 }, (_, i) => ((rows[i * RANKING_FEATURES.length] as number) > 0 ? 1 : 0));
    const model = trainRanker(rows, labels, RANKING_FEATURES.length);
    expect(model.featureSchema).toBe(RANKING_FEATURE_SCHEMA);
    expect(model.featureNames).toEqual(RANKING_FEATURES);
  });

  it('when rows and labels disagree in size or names are missing, it refuses to train', () => {
    const { rows, labels } = toyProblem(10, 6);
    expect(() => trainRanker(rows, labels.subarray(0, 9), 3, { featureNames: toyNames })).toThrow(/values for 9 labels/);
    expect(() => trainRanker(rows, labels, 3)).toThrow(/feature names/);
  });
});

describe('featureSchemaOf', () => {
  it('when a feature is renamed or reordered, the schema changes', () => {
    expect(featureSchemaOf(['a', 'b'])).toBe(featureSchemaOf(['a', 'b']));
    expect(featureSchemaOf(['a', 'b'])).not.toBe(featureSchemaOf(['b', 'a']));
    expect(featureSchemaOf(['a', 'b'])).not.toBe(featureSchemaOf(['a', 'c']));
    expect(RANKING_FEATURE_SCHEMA).toMatch(/^ranking-v1-8-[0-9a-f]{8}$/);
  });
});
