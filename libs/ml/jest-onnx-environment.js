// Jest's node environment runs tests in a separate realm, so typed arrays made by onnxruntime-node's
// native code (outer realm) fail onnxruntime-common's `instanceof Float32Array` checks inside a test
// ("A float32 tensor's data must be type of function Float32Array()"). Jest already shares
// Uint8Array and ArrayBuffer with the outer realm for the same reason; this shares the rest.
// Use with a `@jest-environment ./jest-onnx-environment.js` docblock in tests that run onnxruntime.
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'Int8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OnnxRuntimeEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxRuntimeEnvironment;
