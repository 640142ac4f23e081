// The shape of a registered model version, shared by the registry adapter, the trainer and the
// services that serve the champion.

/** Lifecycle of a version: trained (candidate), serving (champion), replaced (retired). */
export type ModelStatus = 'candidate' | 'champion' | 'retired';

/** Offline metrics by name, e.g. `ndcg@10`, `hitRate@10`, `baseline.ndcg@10`. */
export type ModelMetrics = Readonly<Record<string, number>>;

/** What the trainer hands to `registerModel`. */
export interface NewModelVersion {
  /** Defaults to a fresh `m-YYYYMMDD-HHMMSS-xxxx` id. */
  readonly version?: string;
  readonly metrics: ModelMetrics;
  /** Identity of the held-out split `metrics` were measured on (see `splitIdOf`-style hashes). */
  readonly splitId: string;
  /** The ranker's feature schema version; scoring refuses requests built on another one. */
  readonly featureSchema: string;
  readonly factors: number;
  /** Row r of itemVectors belongs to itemIds[r]. */
  readonly itemIds: readonly string[];
  /** itemIds.length × factors, rows L2-normalised. */
  readonly itemVectors: Float32Array;
  /** L2 norm of each raw item vector (unit row × norm = raw vector). */
  readonly itemNorms: Float32Array;
  /** The ranker as a serialised ONNX model. */
  readonly rankerOnnx: Uint8Array;
}

/** A registered version without its large payloads. */
export interface ModelSummary {
  readonly version: string;
  readonly status: ModelStatus;
  readonly createdAt: Date;
  readonly promotedAt: Date | undefined;
  readonly retiredAt: Date | undefined;
  readonly metrics: ModelMetrics;
  readonly splitId: string;
  readonly featureSchema: string;
  readonly factors: number;
  readonly itemCount: number;
}

/** A registered version with everything needed to serve it. */
export interface ModelVersion extends ModelSummary {
  readonly itemIds: readonly string[];
  readonly itemVectors: Float32Array;
  readonly itemNorms: Float32Array;
  readonly rankerOnnx: Uint8Array;
}

const MODEL_STATUSES: readonly ModelStatus[] = ['candidate', 'champion', 'retired'];

/** Narrows a database string to a ModelStatus; throws on anything else. */
export function parseModelStatus(value: string): ModelStatus {
  const status = MODEL_STATUSES.find((candidate) => candidate === value);
  if (!status) throw new Error(`unknown model status ${JSON.stringify(value)}`);
  return status;
}
