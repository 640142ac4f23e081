// The wire form of a feature matrix between the recommender and scoring: float32 values,
// little-endian, back to back. On a little-endian machine (every one Node runs on in practice) both
// directions are one memory copy; elsewhere each value is swapped through a DataView.
import { endianness } from 'node:os';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** The values as little-endian float32 bytes (a view of `values` on a little-endian host: no copy). */
export function encodeFeatureMatrix(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return bytes;
}

/**
 * Little-endian float32 bytes back to values, in a new (aligned) array. The caller checks that the
 * length is a multiple of 4 (decoding ignores a trailing partial value).
 */
export function decodeFeatureMatrix(bytes: Uint8Array): Float32Array {
  const count = Math.floor(bytes.byteLength / 4);
  if (LITTLE_ENDIAN_HOST) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * 4));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: count }, (_, index) => view.getFloat32(index * 4, true));
}
