import type { RecurrentActivation } from '../layers/rnn/activations.ts';
import type { FloatArray } from '../tensor.ts';

/**
 * The math the layers call, behind one small interface so a wasm SIMD backend can replace the pure-TS one.
 * Matrices are row-major, addressed as (array, offset, leading dimension) like BLAS.
 * Every function writes into buffers the caller owns and allocates nothing (except `allocateFloat32`).
 * Float64 arrays always take the pure-TS path: they are the oracle of gradient checks.
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

  /**
   * A zero-filled float32 buffer where this backend computes without copying (the wasm backend: a view of
   * its linear memory). `tensor.ts`' `allocate` takes every float32 layer buffer from here.
   */
  allocateFloat32(length: number): Float32Array;
  /**
   * Gives a buffer from `allocateFloat32` back (a no-op for any other array, and for the ts backend). The
   * array must not be used afterwards.
   */
  release(a: FloatArray): void;
  /**
   * One Keras LSTM step (gate order i, f, c, o) for `batch` rows of `units` u:
   *   z = gates + h_prev · recurrentKernel;  i, f, o = rec(z_i, z_f, z_o);  g = act(z_c)
   *   c = f ⊙ c_prev + i ⊙ g;  h = o ⊙ act(c)
   * `gates` [batch, 4u] at `gatesOff`: on entry x · kernel + bias, on return the activated i, f, g, o (what
   * the backward step needs). h_prev / h are [batch, u] at `hPrev` / `hNext` of `h`, likewise c_prev / c;
   * `recurrentKernel` is [u, 4u].
   */
  lstmForwardStep(
    batch: number,
    units: number,
    gates: FloatArray,
    gatesOff: number,
    h: FloatArray,
    hPrev: number,
    hNext: number,
    c: FloatArray,
    cPrev: number,
    cNext: number,
    recurrentKernel: FloatArray,
    recurrentActivation: RecurrentActivation,
    activation: RecurrentActivation,
  ): void;
  /**
   * The backward of `lstmForwardStep`. On entry `dh`, `dc` ([batch, u] at offset 0) hold ∂L/∂h and ∂L/∂c
   * of this step; writes ∂L/∂z to `dGates` [batch, 4u] at `dGatesOff` and leaves ∂L/∂h_prev in dh and
   * ∂L/∂c_prev in dc. `gates` holds the forward step's activated gates, `c` its c_prev and c.
   */
  lstmBackwardStep(
    batch: number,
    units: number,
    dGates: FloatArray,
    dGatesOff: number,
    gates: FloatArray,
    gatesOff: number,
    c: FloatArray,
    cPrev: number,
    cNext: number,
    dh: FloatArray,
    dc: FloatArray,
    recurrentKernel: FloatArray,
    recurrentActivation: RecurrentActivation,
    activation: RecurrentActivation,
  ): void;
}
