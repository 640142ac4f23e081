// The ranking model: L2-regularised logistic regression fitted by Newton's method on standardised
// features, with the standardisation folded back into the weights so that serving (TypeScript or
// ONNX) is just sigmoid(x·w + b) on raw features.

import { solveSymmetricPositiveDefinite } from './linear-algebra';
import { RANKING_FEATURES, featureSchemaOf } from './ranking-features';

export interface RankerOptions {
  /** L2 penalty on the standardised weights (not the bias), added to the mean log-loss; default 1e-4. */
  readonly l2?: number;
  /** Newton steps at most; default 30. */
  readonly maxIterations?: number;
  /** Stop when no parameter moves more than this; default 1e-7. */
  readonly tolerance?: number;
  /** Column names; default RANKING_FEATURES when featureCount matches it. */
  readonly featureNames?: readonly string[];
}

/** A trained ranker over raw (unstandardised) feature rows. */
export interface RankerModel {
  /** One weight per feature column. */
  readonly weights: Float32Array;
  /** Exactly representable as float32, so TypeScript and ONNX scoring agree. */
  readonly bias: number;
  readonly featureNames: readonly string[];
  /** featureSchemaOf(featureNames); scoring refuses rows of another schema. */
  readonly featureSchema: string;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** ln(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * Fits P(label = 1 | row) = sigmoid(row·w + b) to `rows` (n × featureCount, row-major) and 0/1
 * `labels`; deterministic (full-batch Newton with backtracking, no sampling).
 */
export function trainRanker(
  rows: Float32Array,
  labels: Uint8Array,
  featureCount: number,
  options: RankerOptions = {},
): RankerModel {
  const featureNames = options.featureNames ?? (featureCount === RANKING_FEATURES.length ? RANKING_FEATURES : undefined);
  if (!featureNames || featureNames.length !== featureCount) {
    throw new Error(`trainRanker needs ${featureCount} feature names (options.featureNames)`);
  }
  const n = labels.length;
  if (n === 0 || rows.length !== n * featureCount) {
    throw new Error(`trainRanker got ${rows.length} values for ${n} labels × ${featureCount} features`);
  }
  const l2 = options.l2 ?? 1e-4;
  const maxIterations = options.maxIterations ?? 30;
  const tolerance = options.tolerance ?? 1e-7;
  const f = featureCount;
  const p = f + 1; // parameters: weights, then bias

  // Standardise so that one L2 penalty and one tolerance suit features of any scale.
  const mean = new Float64Array(f);
  const scale = new Float64Array(f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j] = (mean[j] as number) + (rows[i * f + j] as number) / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) scale[j] = (scale[j] as number) + ((rows[i * f + j] as number) - (mean[j] as number)) ** 2 / n;
  }
  // A constant column carries no information: it standardises to exactly 0 and gets weight 0.
  const constant = new Uint8Array(f);
  for (let j = 0; j < f; j++) {
    constant[j] = (scale[j] as number) > 1e-12 ? 0 : 1;
    scale[j] = constant[j] ? 1 : Math.sqrt(scale[j] as number);
  }
  const standardised = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) {
      if (!constant[j]) standardised[i * p + j] = ((rows[i * f + j] as number) - (mean[j] as number)) / (scale[j] as number);
    }
    standardised[i * p + f] = 1;
  }

  const theta = new Float64Array(p);
  const logits = new Float64Array(n);
  const computeLogits = (parameters: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let j = 0; j < p; j++) z += (standardised[i * p + j] as number) * (parameters[j] as number);
      logits[i] = z;
    }
  };
  const lossAt = (parameters: Float64Array): number => {
    computeLogits(parameters);
    let loss = 0;
    for (let i = 0; i < n; i++) loss += softplus(logits[i] as number) - (labels[i] as number) * (logits[i] as number);
    let penalty = 0;
    for (let j = 0; j < f; j++) penalty += (parameters[j] as number) ** 2;
    return loss / n + 0.5 * l2 * penalty;
  };

  let loss = lossAt(theta);
  const gradient = new Float64Array(p);
  const hessian = new Float64Array(p * p);
  const candidate = new Float64Array(p);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    computeLogits(theta);
    gradient.fill(0);
    hessian.fill(0);
    for (let i = 0; i < n; i++) {
      const probability = sigmoid(logits[i] as number);
      const residual = (probability - (labels[i] as number)) / n;
      const curvature = (probability * (1 - probability)) / n;
      const row = i * p;
      for (let a = 0; a < p; a++) {
        const xa = standardised[row + a] as number;
        gradient[a] = (gradient[a] as number) + residual * xa;
        const scaled = curvature * xa;
        for (let b = a; b < p; b++) hessian[a * p + b] = (hessian[a * p + b] as number) + scaled * (standardised[row + b] as number);
      }
    }
    for (let j = 0; j < p; j++) {
      const ridge = j < f ? l2 : 1e-10;
      if (j < f) gradient[j] = (gradient[j] as number) + l2 * (theta[j] as number);
      hessian[j * p + j] = (hessian[j * p + j] as number) + ridge;
    }
    const step = Float64Array.from(gradient);
    solveSymmetricPositiveDefinite(hessian, step, p);

    // Backtracking: a full Newton step can overshoot when classes are (nearly) separable.
    let fraction = 1;
    let improved = false;
    for (let halvings = 0; halvings < 30; halvings++, fraction /= 2) {
      for (let j = 0; j < p; j++) candidate[j] = (theta[j] as number) - fraction * (step[j] as number);
      const candidateLoss = lossAt(candidate);
      if (candidateLoss <= loss) {
        loss = candidateLoss;
        improved = true;
        break;
      }
    }
    if (!improved) break;
    let largestMove = 0;
    for (let j = 0; j < p; j++) largestMove = Math.max(largestMove, Math.abs((candidate[j] as number) - (theta[j] as number)));
    theta.set(candidate);
    if (largestMove < tolerance) break;
  }

  const weights = new Float32Array(f);
  let bias = theta[f] as number;
  for (let j = 0; j < f; j++) {
    // The bias absorbs the float32-rounded weight, the one that will be served.
    const served = Math.fround((theta[j] as number) / (scale[j] as number));
    weights[j] = served;
    bias -= served * (mean[j] as number);
  }
  return { weights, bias: Math.fround(bias), featureNames: [...featureNames], featureSchema: featureSchemaOf(featureNames) };
}

/** Scores each row of `rows` (n × weights.length) as sigmoid(row·w + b), in [0, 1]. */
export function scoreWithRanker(model: RankerModel, rows: Float32Array): Float32Array {
  const f = model.weights.length;
  if (rows.length % f !== 0) throw new Error(`scoreWithRanker got ${rows.length} values, not a multiple of ${f} features`);
  const scores = new Float32Array(rows.length / f);
  for (let i = 0; i < scores.length; i++) {
    let z = model.bias;
    for (let j = 0; j < f; j++) z += (rows[i * f + j] as number) * (model.weights[j] as number);
    scores[i] = sigmoid(z);
  }
  return scores;
}
