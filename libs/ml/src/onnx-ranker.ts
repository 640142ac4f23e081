// Writes the ranker as an ONNX model for the scoring service (onnxruntime-node), built from the
// vendored onnx.proto with protobuf-es: scores = Reshape(Sigmoid(MatMul(features, W) + B), [-1]).

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { onnx } from '@orrery/proto';
import type { RankerModel } from './ranker';

/** metadata_props key holding the model's feature schema id. */
export const ONNX_FEATURE_SCHEMA_KEY = 'orrery.feature_schema';
/** metadata_props key holding the feature names, comma-separated, in column order. */
export const ONNX_FEATURE_NAMES_KEY = 'orrery.feature_names';
/** Graph input: float32 [N, F]. */
export const ONNX_INPUT_NAME = 'features';
/** Graph output: float32 [N], probabilities. */
export const ONNX_OUTPUT_NAME = 'scores';

// IR version 8 and opset 17 (ONNX 1.12) are old enough for every onnxruntime in use and have all
// four operators with today's semantics.
const IR_VERSION = 8n;
const OPSET_VERSION = 17n;

function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): onnx.TensorProto {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  // raw_data is little-endian by the ONNX spec, whatever this machine is.
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return create(onnx.TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: onnx.TensorProto_DataType.FLOAT,
    rawData: bytes,
  });
}

function floatTensorValue(name: string, shape: ReadonlyArray<number | string>): onnx.ValueInfoProto {
  return create(onnx.ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType: onnx.TensorProto_DataType.FLOAT,
          shape: {
            dim: shape.map((dim) => ({
              value:
                typeof dim === 'number'
                  ? { case: 'dimValue' as const, value: BigInt(dim) }
                  : { case: 'dimParam' as const, value: dim },
            })),
          },
        },
      },
    },
  });
}

/** Encodes `model` as ONNX ModelProto bytes: input `features` float32 [N, F], output `scores` float32 [N]. */
export function exportRankerToOnnx(model: RankerModel): Uint8Array {
  const featureCount = model.weights.length;
  const graph = create(onnx.GraphProtoSchema, {
    name: 'orrery_ranker',
    docString: 'Logistic-regression ranker: sigmoid(features · weights + bias).',
    input: [floatTensorValue(ONNX_INPUT_NAME, ['N', featureCount])],
    output: [floatTensorValue(ONNX_OUTPUT_NAME, ['N'])],
    initializer: [
      floatTensor('weights', [featureCount, 1], model.weights),
      floatTensor('bias', [1], [model.bias]),
      create(onnx.TensorProtoSchema, {
        name: 'scores_shape',
        dims: [1n],
        dataType: onnx.TensorProto_DataType.INT64,
        int64Data: [-1n],
      }),
    ],
    node: [
      create(onnx.NodeProtoSchema, { name: 'linear', opType: 'MatMul', input: [ONNX_INPUT_NAME, 'weights'], output: ['logits_column'] }),
      create(onnx.NodeProtoSchema, { name: 'add_bias', opType: 'Add', input: ['logits_column', 'bias'], output: ['biased_column'] }),
      create(onnx.NodeProtoSchema, { name: 'probability', opType: 'Sigmoid', input: ['biased_column'], output: ['scores_column'] }),
      create(onnx.NodeProtoSchema, { name: 'flatten', opType: 'Reshape', input: ['scores_column', 'scores_shape'], output: [ONNX_OUTPUT_NAME] }),
    ],
  });
  const modelProto = create(onnx.ModelProtoSchema, {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'orrery',
    producerVersion: '0.1.0',
    domain: 'io.orrery',
    modelVersion: 1n,
    docString: `Orrery ranker over ${featureCount} features (${model.featureSchema}).`,
    graph,
    metadataProps: [
      { key: ONNX_FEATURE_SCHEMA_KEY, value: model.featureSchema },
      { key: ONNX_FEATURE_NAMES_KEY, value: model.featureNames.join(',') },
    ],
  });
  return toBinary(onnx.ModelProtoSchema, modelProto);
}

/** Returns the feature schema id stored in ONNX model bytes, or undefined when the model has none. */
export function readOnnxFeatureSchema(bytes: Uint8Array): string | undefined {
  const model = fromBinary(onnx.ModelProtoSchema, bytes);
  return model.metadataProps.find((entry) => entry.key === ONNX_FEATURE_SCHEMA_KEY)?.value;
}
