// Dense helpers over row-major Float64Array / Float32Array matrices, shared by ALS and the ranker.

/**
 * Solves A·x = b in place for a symmetric positive-definite n×n row-major A, reading only A's upper
 * triangle: A's lower triangle is overwritten by its Cholesky factor and b by x.
 */
export function solveSymmetricPositiveDefinite(a: Float64Array, b: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let diagonal = a[rowJ + j] as number;
    for (let k = 0; k < j; k++) {
      const l = a[rowJ + k] as number;
      diagonal -= l * l;
    }
    // Rounding can push a barely-positive pivot below zero; a tiny floor keeps the solve finite.
    const pivot = Math.sqrt(Math.max(diagonal, 1e-12));
    a[rowJ + j] = pivot;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let sum = a[j * n + i] as number; // upper-triangle A[j][i] == A[i][j]
      for (let k = 0; k < j; k++) sum -= (a[rowI + k] as number) * (a[rowJ + k] as number);
      a[rowI + j] = sum / pivot;
    }
  }
  // Forward: L·y = b.
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    let sum = b[i] as number;
    for (let k = 0; k < i; k++) sum -= (a[rowI + k] as number) * (b[k] as number);
    b[i] = sum / (a[rowI + i] as number);
  }
  // Backward: Lᵀ·x = y.
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i] as number;
    for (let k = i + 1; k < n; k++) sum -= (a[k * n + i] as number) * (b[k] as number);
    b[i] = sum / (a[i * n + i] as number);
  }
}

/** Scales each `width`-wide row of `matrix` to unit L2 norm in place (zero rows stay zero); returns the old norms. */
export function normaliseRows(matrix: Float32Array | Float64Array, width: number): Float32Array {
  const norms = new Float32Array(matrix.length / width);
  for (let offset = 0; offset < matrix.length; offset += width) {
    let squared = 0;
    for (let k = 0; k < width; k++) squared += (matrix[offset + k] as number) ** 2;
    if (squared === 0) continue;
    const norm = Math.sqrt(squared);
    norms[offset / width] = norm;
    const scale = 1 / norm;
    for (let k = 0; k < width; k++) matrix[offset + k] = (matrix[offset + k] as number) * scale;
  }
  return norms;
}
