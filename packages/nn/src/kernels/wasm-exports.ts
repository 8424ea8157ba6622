/**
 * What kernels.wasm exports (the C signatures of wasm/src/*.c, pointers as byte addresses), the order in
 * which a worker's call list names them, and the activation codes of wasm/src/activations.h.
 */
import type { RecurrentActivation, RecurrentActivationName } from '../layers/rnn/activations.ts';

export interface Exports {
  gemm_scratch_floats(): number;
  gemm(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
    scratch: number,
  ): void;
  lstm_forward(
    batch: number,
    time: number,
    u: number,
    gates: number,
    hs: number,
    cs: number,
    U: number,
    rec: number,
    act: number,
    scratch: number,
  ): void;
  lstm_backward(
    batch: number,
    time: number,
    u: number,
    dGates: number,
    gates: number,
    cs: number,
    dh: number,
    dc: number,
    U: number,
    dy: number,
    rec: number,
    act: number,
    scratch: number,
    ut: number,
  ): void;
  copy_blocks(
    dst: number,
    dOuter: number,
    dInner: number,
    src: number,
    sOuter: number,
    sInner: number,
    outer: number,
    inner: number,
    n: number,
  ): void;
  sum_rows(dst: number, src: number, rows: number, n: number): void;
  add(dst: number, a: number, b: number, n: number): void;
  activate(code: number, p: number, n: number): void;
  normalize_columns(
    y: number,
    x: number,
    mean: number,
    scale: number,
    shift: number,
    rows: number,
    n: number,
  ): void;
  peak_multiply_add(iterations: number, block: number): number;
  gru_forward(
    batch: number,
    time: number,
    u: number,
    resetAfter: number,
    gates: number,
    hs: number,
    extra: number,
    scratch: number,
    U: number,
    bRec: number,
    rec: number,
    act: number,
    gemmScratch: number,
  ): void;
  gru_backward(
    batch: number,
    time: number,
    u: number,
    resetAfter: number,
    dGates: number,
    dRec: number,
    gates: number,
    hs: number,
    extra: number,
    scratch: number,
    dh: number,
    U: number,
    dy: number,
    rec: number,
    act: number,
    gemmScratch: number,
  ): void;
}

/** The exports a call list may name, by index (wasm-thread.ts runs them in the worker). */
export const KERNEL_NAMES = [
  'gemm',
  'lstm_forward',
  'lstm_backward',
  'gru_forward',
  'gru_backward',
  'copy_blocks',
  'sum_rows',
  'add',
  'activate',
  'normalize_columns',
] as const;

/** Activation codes of wasm/src/activations.h. */
export const ACTIVATION_CODES: Record<RecurrentActivationName, number> = {
  linear: 0,
  relu: 1,
  sigmoid: 2,
  tanh: 3,
  hard_sigmoid: 4,
};

/** The code of an activation for the kernels. */
export function activationCode(a: RecurrentActivation): number {
  return ACTIVATION_CODES[a.name];
}
