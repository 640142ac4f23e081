// The champion ranker currently served, swapped atomically: a request keeps the model it started
// with; a replaced model's ONNX session is released once its last request has finished.

import { loadOnnxRanker, type ModelVersion, type OnnxRanker } from '@orrery/models';
import { readOnnxFeatureSchema } from '@orrery/ml';

/** A loaded ranker and what it was trained on. */
export interface LoadedRanker {
  readonly version: string;
  readonly featureSchema: string;
  readonly ranker: OnnxRanker;
}

interface Slot extends LoadedRanker {
  inFlight: number;
  retired: boolean;
}

export class ModelSlot {
  private current: Slot | undefined;

  /** Version served now, or '' before the first champion. */
  version(): string {
    return this.current?.version ?? '';
  }

  /** Loads the model's ranker aside, then makes it current; throws when its ONNX does not match the registry row. */
  async load(model: ModelVersion): Promise<void> {
    const onnxSchema = readOnnxFeatureSchema(model.rankerOnnx);
    if (onnxSchema !== undefined && onnxSchema !== model.featureSchema) {
      throw new Error(`model ${model.version}: ONNX feature schema ${onnxSchema} differs from the registry's ${model.featureSchema}`);
    }
    const ranker = await loadOnnxRanker(model.rankerOnnx);
    const previous = this.current;
    this.current = { version: model.version, featureSchema: model.featureSchema, ranker, inFlight: 0, retired: false };
    if (previous) {
      previous.retired = true;
      if (previous.inFlight === 0) await previous.ranker.release();
    }
  }

  /** Runs `work` with the current model (undefined when none), keeping it loaded meanwhile. */
  async use<T>(work: (model: LoadedRanker | undefined) => Promise<T>): Promise<T> {
    const slot = this.current;
    if (!slot) return work(undefined);
    slot.inFlight++;
    try {
      return await work(slot);
    } finally {
      slot.inFlight--;
      if (slot.retired && slot.inFlight === 0) await slot.ranker.release();
    }
  }

  /** Releases the current model (at shutdown, after requests drained). */
  async close(): Promise<void> {
    const slot = this.current;
    this.current = undefined;
    if (slot) {
      slot.retired = true;
      if (slot.inFlight === 0) await slot.ranker.release();
    }
  }
}
