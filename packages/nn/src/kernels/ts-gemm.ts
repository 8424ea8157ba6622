import type { Kernels } from './kernels.ts';

/** Pure-TypeScript GEMM, generic over Float32Array and Float64Array; see `Kernels.gemm`. */
export const tsGemm: Kernels['gemm'] = (
  transA,
  transB,
  m,
  n,
  k,
  alpha,
  a,
  aOff,
  lda,
  b,
  bOff,
  ldb,
  beta,
  c,
  cOff,
  ldc,
) => {
  for (let i = 0; i < m; i++) {
    const cRow = cOff + i * ldc;
    if (beta === 0) c.fill(0, cRow, cRow + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) c[cRow + j] *= beta;
  }
  if (alpha === 0 || k === 0) return;
  if (!transB) {
    // i-p-j order: the inner loop runs over contiguous rows of B and C.
    for (let i = 0; i < m; i++) {
      const cRow = cOff + i * ldc;
      for (let p = 0; p < k; p++) {
        const av = alpha * (transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
        if (av === 0) continue;
        const bRow = bOff + p * ldb;
        for (let j = 0; j < n; j++) c[cRow + j] += av * b[bRow + j];
      }
    }
  } else {
    // B transposed: dot products over contiguous rows of B.
    for (let i = 0; i < m; i++) {
      const cRow = cOff + i * ldc;
      for (let j = 0; j < n; j++) {
        const bRow = bOff + j * ldb;
        let s = 0;
        if (transA) for (let p = 0; p < k; p++) s += a[aOff + p * lda + i] * b[bRow + p];
        else {
          const aRow = aOff + i * lda;
          for (let p = 0; p < k; p++) s += a[aRow + p] * b[bRow + p];
        }
        c[cRow + j] += alpha * s;
      }
    }
  }
};
