import { decodeFeatureMatrix, encodeFeatureMatrix } from './feature-bytes';

describe('feature matrix bytes', () => {
  it('round-trips float32 values, including from an unaligned offset of a larger buffer', () => {
    const values = Float32Array.from([0, 1.5, -2.25, 3.4028234663852886e38, 1e-40, -0]);
    const encoded = encodeFeatureMatrix(values);
    expect(encoded.byteLength).toBe(values.length * 4);
    const framed = new Uint8Array(encoded.byteLength + 3);
    framed.set(encoded, 3);
    const decoded = decodeFeatureMatrix(framed.subarray(3));
    expect(Array.from(decoded)).toEqual(Array.from(values));
  });

  it('encodes little-endian IEEE 754 float32', () => {
    expect(Array.from(encodeFeatureMatrix(Float32Array.of(1)))).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it('encodes the view it is given, not the whole buffer behind it', () => {
    const matrix = Float32Array.from([1, 2, 3, 4]);
    expect(Array.from(decodeFeatureMatrix(encodeFeatureMatrix(matrix.subarray(1, 3))))).toEqual([2, 3]);
  });
});
