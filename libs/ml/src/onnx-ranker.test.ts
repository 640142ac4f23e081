/**
 * @jest-environment ./jest-onnx-environment.js
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, exportRankerToOnnx, readOnnxFeatureSchema } from './onnx-ranker';
import { createSeededRandom } from './random';
import { scoreWithRanker, trainRanker } from './ranker';
import { RANKING_FEATURES, RANKING_FEATURE_SCHEMA } from './ranking-features';

describe('exportRankerToOnnx', () => {
  const featureCount = RANKING_FEATURES.length;
  const random = createSeededRandom(21);
  const trainingRows = Float32Array.from({ length: 3000 * featureCount }, () => random.normal() * 3 + 1);
  const labels = Uint8Array.from({ length: 3000 }, (_, i) =>
    (trainingRows[i * featureCount] as number) - (trainingRows[i * featureCount + 3] as number) + random.normal() > 0 ? 1 : 0,
  );
  const model = trainRanker(trainingRows, labels, featureCount);
  const bytes = exportRankerToOnnx(model);

  it('when loaded by onnxruntime, it scores any batch size exactly as scoreWithRanker does', async () => {
    const session = await InferenceSession.create(bytes);
    expect(session.inputNames).toEqual([ONNX_INPUT_NAME]);
    expect(session.outputNames).toEqual([ONNX_OUTPUT_NAME]);
    for (const batch of [1, 7, 500]) {
      const rows = Float32Array.from({ length: batch * featureCount }, () => random.normal() * 4);
      const output = await session.run({ [ONNX_INPUT_NAME]: new Tensor('float32', rows, [batch, featureCount]) });
      const scores = output[ONNX_OUTPUT_NAME] as Tensor;
      expect(scores.dims).toEqual([batch]);
      expect(scores.type).toBe('float32');
      const expected = scoreWithRanker(model, rows);
      const actual = scores.data as Float32Array;
      let largestDifference = 0;
      for (let i = 0; i < batch; i++) largestDifference = Math.max(largestDifference, Math.abs((actual[i] as number) - (expected[i] as number)));
      expect(largestDifference).toBeLessThan(1e-5);
    }
  });

  it('when read back, the bytes carry the feature schema the model was trained on', () => {
    expect(readOnnxFeatureSchema(bytes)).toBe(RANKING_FEATURE_SCHEMA);
  });

  it('when onnxruntime is given rows of the wrong width, it refuses them', async () => {
    const session = await InferenceSession.create(bytes);
    const rows = new Float32Array(2 * (featureCount - 1));
    await expect(session.run({ [ONNX_INPUT_NAME]: new Tensor('float32', rows, [2, featureCount - 1]) })).rejects.toThrow();
  });
});
