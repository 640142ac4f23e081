// Checks a ScoreRequest's shape before it reaches the model: INVALID_ARGUMENT naming the field.

import { invalidArgument } from '@orrery/grpc';
import { decodeFeatureMatrix } from '@orrery/ml';

/** Candidate rows one request may carry (the recommender sends at most a few thousand). */
export const MAX_ROWS = 20_000;

/** A request that is well-formed on its own (whether it fits the model is checked against the model). */
export interface ScoreBatch {
  readonly featureCount: number;
  readonly rowCount: number;
  readonly features: Float32Array;
  readonly featureSchema: string;
}

/** Validates the decoded request; throws INVALID_ARGUMENT naming the field. */
export function validateScoreRequest(request: { readonly featureCount: number; readonly featureMatrix: Uint8Array; readonly featureSchema: string }): ScoreBatch {
  const { featureCount, featureMatrix, featureSchema } = request;
  if (featureSchema.length === 0) throw invalidArgument('feature_schema', 'must not be empty');
  if (!Number.isInteger(featureCount) || featureCount < 1) throw invalidArgument('feature_count', `must be a positive integer, got ${featureCount}`);
  if (featureMatrix.byteLength % 4 !== 0) {
    throw invalidArgument('feature_matrix', `holds ${featureMatrix.byteLength} bytes, not whole float32 values (4 bytes each)`);
  }
  const valueCount = featureMatrix.byteLength / 4;
  if (valueCount % featureCount !== 0) {
    throw invalidArgument('feature_matrix', `holds ${valueCount} values, not a multiple of feature_count ${featureCount}`);
  }
  const rowCount = valueCount / featureCount;
  if (rowCount > MAX_ROWS) throw invalidArgument('feature_matrix', `holds ${rowCount} rows, more than ${MAX_ROWS}`);
  const features = decodeFeatureMatrix(featureMatrix);
  const bad = features.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) throw invalidArgument(`feature_matrix[${bad}]`, 'must be a finite number');
  return { featureCount, rowCount, features, featureSchema };
}
