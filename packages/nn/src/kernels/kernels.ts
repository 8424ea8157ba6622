import type { FloatArray } from '../tensor.ts';

/**
 * The math the layers call, behind one small interface so a wasm SIMD backend can replace the pure-TS one.
 * Matrices are row-major, addressed as (array, offset, leading dimension) like BLAS.
 * Every function writes into buffers the caller owns and allocates nothing.
 */
export interface Kernels {
  readonly name: string;
  /**
   * C = alpha · op(A) · op(B) + beta · C, with op(X) = X or Xᵀ.
   * op(A) is [m, k], op(B) is [k, n], C is [m, n]. `beta = 0` overwrites C (NaNs in C do not propagate).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: FloatArray,
    aOffset: number,
    lda: number,
    b: FloatArray,
    bOffset: number,
    ldb: number,
    beta: number,
    c: FloatArray,
    cOffset: number,
    ldc: number,
  ): void;
}
