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
   * Keras LSTM (gate order i, f, c, o) over `time` steps of `batch` rows of `units` u, each step
   *   z = gates[s] + h[s] · recurrentKernel;  i, f, o = rec(z_i, z_f, z_o);  g = act(z_c)
   *   c[s+1] = f ⊙ c[s] + i ⊙ g;  h[s+1] = o ⊙ act(c[s+1])
   * `gates` [time, batch, 4u]: on entry x · kernel + bias, on return the activated i, f, g, o (what the
   * backward needs). `h`, `c` [time + 1, batch, u] hold the initial state at step 0 and receive the rest.
   * `recurrentKernel` is [u, 4u]. All arrays are addressed from offset 0.
   */
  lstmForward(
    batch: number,
    time: number,
    units: number,
    gates: FloatArray,
    h: FloatArray,
    c: FloatArray,
    recurrentKernel: FloatArray,
    recurrentActivation: RecurrentActivation,
    activation: RecurrentActivation,
  ): void;
  /**
   * The backward of `lstmForward`, steps time−1 … 0. `dh`, `dc` [batch, u] carry ∂L/∂h and ∂L/∂c backwards
   * (on entry: the gradient reaching the last step's h and c, on return: the initial state's). `dOutput`,
   * when not null, is ∂L/∂h for every step, [batch, time, u] in processing order, added to dh as each step
   * is reached. Writes ∂L/∂z to `dGates` [time, batch, 4u]; `gates` and `c` are what lstmForward left.
   */
  lstmBackward(
    batch: number,
    time: number,
    units: number,
    dGates: FloatArray,
    gates: FloatArray,
    c: FloatArray,
    dh: FloatArray,
    dc: FloatArray,
    recurrentKernel: FloatArray,
    dOutput: FloatArray | null,
    recurrentActivation: RecurrentActivation,
    activation: RecurrentActivation,
  ): void;
  /**
   * For o < outer, i < inner: dst[dOff + o·dOuter + i·dInner + j] = src[sOff + o·sOuter + i·sInner + j],
   * j < n. Strides may be 0 (broadcast a row) or negative (reverse time). Regions must not overlap.
   */
  copyBlocks(
    dst: FloatArray,
    dOff: number,
    dOuter: number,
    dInner: number,
    src: FloatArray,
    sOff: number,
    sOuter: number,
    sInner: number,
    outer: number,
    inner: number,
    n: number,
  ): void;
  /** dst[dOff + j] += Σ_r src[sOff + r·n + j] for j < n, r < rows (a bias gradient). */
  sumRows(dst: FloatArray, dOff: number, src: FloatArray, sOff: number, rows: number, n: number): void;
  /** dst[dOff + j] = a[aOff + j] + b[bOff + j] for j < n. */
  add(
    dst: FloatArray,
    dOff: number,
    a: FloatArray,
    aOff: number,
    b: FloatArray,
    bOff: number,
    n: number,
  ): void;
  /** a[off .. off + n) = f(a[off .. off + n)) in place: an elementwise activation over a block. */
  activate(activation: RecurrentActivation, a: FloatArray, off: number, n: number): void;
  /**
   * dst[r·n + j] = (src[r·n + j] − mean[j]) · scale[j] + shift[j] for r < rows, j < n: BatchNormalization
   * with its moving statistics. `dst` may be `src`; all arrays are addressed from offset 0.
   */
  normalizeColumns(
    dst: FloatArray,
    src: FloatArray,
    mean: FloatArray,
    scale: FloatArray,
    shift: FloatArray,
    rows: number,
    n: number,
  ): void;
  /**
   * Runs two independent tasks — `second` may run on another thread at the same time as `first` (the wasm
   * backend's worker; the ts backend runs one after the other). `work` is the multiply-adds of one task,
   * for deciding whether a thread hand-off pays.
   *
   * The contract that makes this safe: once `second` has called a kernel, it only calls kernels (no JS
   * reads or writes of buffers those kernels touch, since they may run later, on the other thread), and
   * the two tasks share no buffer that either writes. Both have finished when this returns.
   */
  concurrently(first: () => void, second: () => void, work: number): void;
  /**
   * Keras GRU (gate order z, r, h) over `time` steps of `batch` rows of `units` u; see
   * layers/rnn/gru-cell.ts for both `resetAfter` forms. `gates` [time, batch, 3u]: on entry x · kernel +
   * input bias, on return the activated z, r, hh. `h` [time + 1, batch, u] holds the initial state at step
   * 0. `extra` [time, batch, u] receives what backward needs (resetAfter: rh = h_prev · U_h + b_rh, else
   * r ⊙ h_prev); `scratch` is [batch, 3u] (resetAfter) or [batch, u]. `recurrentBias` (resetAfter only,
   * may be null) is b_rec, 3u values at `recurrentBiasOff`.
   */
  gruForward(
    batch: number,
    time: number,
    units: number,
    resetAfter: boolean,
    gates: FloatArray,
    h: FloatArray,
    extra: FloatArray,
    scratch: FloatArray,
    recurrentKernel: FloatArray,
    recurrentBias: FloatArray | null,
    recurrentBiasOff: number,
    recurrentActivation: RecurrentActivation,
    activation: RecurrentActivation,
  ): void;
  /**
   * The backward of `gruForward`, steps time−1 … 0, with `dh` and `dOutput` as in `lstmBackward`. Writes
   * ∂L/∂(input pre-activations) to `dGates` and, with resetAfter, ∂L/∂(recurrent pre-activations) to `dRec`
   * (both [time, batch, 3u]; dRec is unused otherwise).
   */
  gruBackward(
    batch: number,
    time: number,
    units: number,
    resetAfter: boolean,
    dGates: FloatArray,
    dRec: FloatArray,
    gates: FloatArray,
    h: FloatArray,
    extra: FloatArray,
    scratch: FloatArray,
    dh: FloatArray,
    recurrentKernel: FloatArray,
    dOutput: FloatArray | null,
    recurrentActivation: RecurrentActivation,
    activation: RecurrentActivation,
  ): void;
}
