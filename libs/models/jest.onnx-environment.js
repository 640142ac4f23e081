// Jest runs tests in a separate realm whose typed-array constructors differ from Node's own, while
// onnxruntime-node hands back tensors built in Node's realm and checks them with `instanceof`.
// Sharing the host's typed arrays makes both sides agree (test files that load ONNX models use this).
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray',
  'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
];

class OnnxCompatibleEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxCompatibleEnvironment;
