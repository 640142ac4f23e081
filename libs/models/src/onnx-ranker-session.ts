// Runs a registered ranker (ONNX bytes from the registry) with onnxruntime-node: one session.run per
// candidate batch. Used by the scoring service and by the trainer's evaluation, so the offline
// metrics are measured on the very artefact that is served.

import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from '@orrery/ml';

/** A loaded ranker. */
export interface OnnxRanker {
  /** Feature columns the model takes (from its input shape). */
  readonly featureCount: number;
  /** Scores `rowCount` rows of `features` (row-major, rowCount × featureCount); one score per row. */
  score(features: Float32Array, rowCount: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** Loads ONNX ranker bytes into a session; throws when its input is not float32 [N, F]. */
export async function loadOnnxRanker(onnxBytes: Uint8Array): Promise<OnnxRanker> {
  // One thread per run: batches are small and the machine is shared; parallelism comes from requests.
  const session = await InferenceSession.create(onnxBytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const input = session.inputMetadata.find((metadata) => metadata.name === ONNX_INPUT_NAME);
  const columns = input?.isTensor ? input.shape[1] : undefined;
  if (typeof columns !== 'number' || !session.outputNames.includes(ONNX_OUTPUT_NAME)) {
    await session.release();
    throw new Error(`ranker model must take ${ONNX_INPUT_NAME} float32 [N, F] and produce ${ONNX_OUTPUT_NAME}`);
  }
  return {
    featureCount: columns,
    score: async (features, rowCount) => {
      if (features.length !== rowCount * columns) throw new Error(`got ${features.length} values for ${rowCount} rows × ${columns} features`);
      if (rowCount === 0) return new Float32Array(0);
      const output = await session.run({ [ONNX_INPUT_NAME]: new Tensor('float32', features, [rowCount, columns]) });
      const scores = output[ONNX_OUTPUT_NAME];
      if (!scores || !(scores.data instanceof Float32Array)) throw new Error(`ranker produced no float32 ${ONNX_OUTPUT_NAME}`);
      return scores.data;
    },
    release: () => session.release(),
  };
}
