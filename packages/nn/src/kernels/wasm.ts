/**
 * The wasm SIMD backend: `wasm/kernels.wasm` (built from `wasm/src/*.c`, see `wasm/build.ts`) over one
 * shared WebAssembly.Memory whose float32 blocks the layers hold as views (`wasm-heap.ts`), so a kernel
 * call passes byte offsets and copies nothing.
 *
 * Loading is synchronous (the module is small and compiled at import), so layers stay synchronous.
 * Float64 arrays — the gradient-check oracle — always run the pure-TS kernels. Float32 arrays that are not
 * in the heap (a caller's input, say) still work: GEMM stages them through the heap, the other kernels fall
 * back to TS. Every call checks its extents against the arrays first, because an out-of-range offset in
 * wasm would silently read or overwrite another buffer instead of throwing.
 */
import { readFileSync } from 'node:fs';
import type { RecurrentActivation, RecurrentActivationName } from '../layers/rnn/activations.ts';
import type { FloatArray } from '../tensor.ts';
import type { Kernels } from './kernels.ts';
import { tsAdd, tsCopyBlocks, tsSumRows } from './ts-copy.ts';
import { tsGemm } from './ts-gemm.ts';
import { tsLstmBackward, tsLstmForward } from './ts-recurrent.ts';
import { WASM_PAGE_BYTES, WasmHeap } from './wasm-heap.ts';

/** Where `wasm/build.ts` writes the module. */
export const WASM_KERNELS_URL = new URL('../../wasm/kernels.wasm', import.meta.url);

/** Initial and maximum memory: 16 MiB grows on demand up to 1 GiB (virtual until touched). */
const INITIAL_PAGES = 256;
const MAXIMUM_PAGES = 16384;

/** Activation codes of wasm/src/activations.h. */
const ACTIVATION_CODES: Record<RecurrentActivationName, number> = {
  linear: 0,
  relu: 1,
  sigmoid: 2,
  tanh: 3,
  hard_sigmoid: 4,
};

/** The smallest module using a SIMD instruction: `(func (result v128) (v128.const i32x4 0 0 0 0))`. */
const SIMD_PROBE = Uint8Array.from([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b,
  0x03,
  0x02,
  0x01,
  0x00,
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00,
  0xfd,
  0x0c,
  ...new Array<number>(16).fill(0),
  0x0b,
]);

/** Why this runtime cannot run the wasm backend, or null when it can. */
export function wasmUnsupportedReason(): string | null {
  if (typeof WebAssembly !== 'object') return 'no WebAssembly';
  if (!WebAssembly.validate(SIMD_PROBE)) return 'no WebAssembly SIMD (128-bit)';
  if (typeof SharedArrayBuffer !== 'function') return 'no SharedArrayBuffer';
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'no shared WebAssembly memory';
  }
  return null;
}

interface Exports {
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
  __heap_base: WebAssembly.Global;
}

export interface WasmKernels extends Kernels {
  readonly heap: WasmHeap;
  /** The kernels' packing and tile space (GEMM panels), one block for the instance's lifetime. */
  readonly scratch: Float32Array;
}

/**
 * Compiles and instantiates the kernels over a fresh memory; null where the runtime lacks what they need
 * (`wasmUnsupportedReason`). A missing or broken module file throws.
 */
export function createWasmKernels(bytes: Uint8Array = readFileSync(WASM_KERNELS_URL)): WasmKernels | null {
  if (wasmUnsupportedReason() !== null) return null;
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const ex = instance.exports as unknown as Exports;
  const heap = new WasmHeap(memory, ex.__heap_base.value, MAXIMUM_PAGES * WASM_PAGE_BYTES);
  // Held in the returned object: the heap frees a block whose view is garbage-collected, and an address
  // alone does not keep it alive.
  const scratchBlock = heap.allocate(ex.gemm_scratch_floats());
  const scratch = scratchBlock.byteOffset;

  /** Byte address of a[off] when `a` is a float32 view of the heap, else -1. */
  const address = (a: FloatArray, off: number): number =>
    a instanceof Float32Array && heap.owns(a) ? a.byteOffset + 4 * off : -1;

  const gemm: Kernels['gemm'] = (
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
    if (!(a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array)) {
      tsGemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
      return;
    }
    for (const [name, v] of [
      ['m', m],
      ['n', n],
      ['k', k],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff)
        throw new RangeError(`gemm: ${name} must be an integer >= 0; received ${v}`);
    }
    const aSpan = span('A', a, aOff, transA ? k : m, transA ? m : k, lda);
    const bSpan = span('B', b, bOff, transB ? n : k, transB ? k : n, ldb);
    const cSpan = span('C', c, cOff, m, n, ldc);
    if (cSpan > 0 && (overlaps(c, cOff, cSpan, a, aOff, aSpan) || overlaps(c, cOff, cSpan, b, bOff, bSpan))) {
      throw new RangeError('gemm: C overlaps A or B; the product cannot be written over its own inputs');
    }
    if (cSpan === 0) return;
    let pa = address(a, aOff);
    let pb = address(b, bOff);
    let pc = address(c, cOff);
    // Operands outside the heap are staged through it (a caller's input; layer buffers never are).
    const sa = pa < 0 ? stage(a, aOff, aSpan) : null;
    const sb = pb < 0 ? stage(b, bOff, bSpan) : null;
    const sc = pc < 0 ? stage(c, cOff, cSpan) : null;
    if (sa) pa = sa.byteOffset;
    if (sb) pb = sb.byteOffset;
    if (sc) pc = sc.byteOffset;
    try {
      ex.gemm(+transA, +transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, scratch);
      if (sc) for (let i = 0; i < cSpan; i++) c[cOff + i] = sc[i];
    } finally {
      for (const s of [sa, sb, sc]) if (s) heap.release(s);
    }
  };

  /** Whether x[xOff, xOff + xLen) and y[yOff, yOff + yLen) share memory (views of one heap alias across its buffers). */
  function overlaps(
    x: FloatArray,
    xOff: number,
    xLen: number,
    y: FloatArray,
    yOff: number,
    yLen: number,
  ): boolean {
    if (xLen === 0 || yLen === 0) return false;
    if (x.buffer !== y.buffer && !(heap.owns(x) && heap.owns(y))) return false;
    const x0 = x.byteOffset + x.BYTES_PER_ELEMENT * xOff;
    const y0 = y.byteOffset + y.BYTES_PER_ELEMENT * yOff;
    return x0 < y0 + y.BYTES_PER_ELEMENT * yLen && y0 < x0 + x.BYTES_PER_ELEMENT * xLen;
  }

  function stage(src: Float32Array, off: number, length: number): Float32Array {
    const copy = heap.allocate(length);
    for (let i = 0; i < length; i++) copy[i] = src[off + i];
    return copy;
  }

  /** Room for a transposed recurrent kernel (lstmBackward), grown on demand and kept. */
  let transposed: Float32Array | null = null;
  function transposeSpace(floats: number): number {
    if (!transposed || transposed.length < floats) {
      if (transposed) heap.release(transposed);
      transposed = heap.allocate(floats);
    }
    return transposed.byteOffset;
  }

  const lstmForward: Kernels['lstmForward'] = (B, T, u, gates, h, c, U, rec, act) => {
    const pg = address(gates, 0);
    const ph = address(h, 0);
    const pc = address(c, 0);
    const pu = address(U, 0);
    if (pg < 0 || ph < 0 || pc < 0 || pu < 0) {
      tsLstmForward(B, T, u, gates, h, c, U, rec, act);
      return;
    }
    fits('lstmForward', 'gates', gates, 0, T * B * 4 * u);
    fits('lstmForward', 'h', h, 0, (T + 1) * B * u);
    fits('lstmForward', 'c', c, 0, (T + 1) * B * u);
    fits('lstmForward', 'recurrentKernel', U, 0, u * 4 * u);
    ex.lstm_forward(B, T, u, pg, ph, pc, pu, code(rec), code(act), scratch);
  };

  const lstmBackward: Kernels['lstmBackward'] = (B, T, u, dGates, gates, c, dh, dc, U, dy, rec, act) => {
    const pdg = address(dGates, 0);
    const pg = address(gates, 0);
    const pc = address(c, 0);
    const pdh = address(dh, 0);
    const pdc = address(dc, 0);
    const pu = address(U, 0);
    const pdy = dy ? address(dy, 0) : 0;
    if (pdg < 0 || pg < 0 || pc < 0 || pdh < 0 || pdc < 0 || pu < 0 || pdy < 0) {
      tsLstmBackward(B, T, u, dGates, gates, c, dh, dc, U, dy, rec, act);
      return;
    }
    fits('lstmBackward', 'dGates', dGates, 0, T * B * 4 * u);
    fits('lstmBackward', 'gates', gates, 0, T * B * 4 * u);
    fits('lstmBackward', 'c', c, 0, (T + 1) * B * u);
    fits('lstmBackward', 'dh', dh, 0, B * u);
    fits('lstmBackward', 'dc', dc, 0, B * u);
    fits('lstmBackward', 'recurrentKernel', U, 0, u * 4 * u);
    if (dy) fits('lstmBackward', 'dOutput', dy, 0, B * T * u);
    const pt = transposeSpace(u * 4 * u);
    ex.lstm_backward(B, T, u, pdg, pg, pc, pdh, pdc, pu, pdy, code(rec), code(act), scratch, pt);
  };

  const copyBlocks: Kernels['copyBlocks'] = (
    dst,
    dOff,
    dOuter,
    dInner,
    src,
    sOff,
    sOuter,
    sInner,
    outer,
    inner,
    n,
  ) => {
    const pd = address(dst, dOff);
    const ps = address(src, sOff);
    if (pd < 0 || ps < 0) {
      tsCopyBlocks(dst, dOff, dOuter, dInner, src, sOff, sOuter, sInner, outer, inner, n);
      return;
    }
    if (outer <= 0 || inner <= 0 || n <= 0) return;
    const [d0, d1] = extent('dst', dst, dOff, dOuter, dInner, outer, inner, n);
    const [s0, s1] = extent('src', src, sOff, sOuter, sInner, outer, inner, n);
    if (overlaps(dst, d0, d1 - d0, src, s0, s1 - s0)) {
      throw new RangeError('copyBlocks: the regions dst and src span overlap');
    }
    ex.copy_blocks(pd, dOuter, dInner, ps, sOuter, sInner, outer, inner, n);
  };

  const sumRows: Kernels['sumRows'] = (dst, dOff, src, sOff, rows, n) => {
    const pd = address(dst, dOff);
    const ps = address(src, sOff);
    if (pd < 0 || ps < 0) {
      tsSumRows(dst, dOff, src, sOff, rows, n);
      return;
    }
    fits('sumRows', 'dst', dst, dOff, n);
    fits('sumRows', 'src', src, sOff, rows * n);
    ex.sum_rows(pd, ps, rows, n);
  };

  const add: Kernels['add'] = (dst, dOff, a, aOff, b, bOff, n) => {
    const pd = address(dst, dOff);
    const pa = address(a, aOff);
    const pb = address(b, bOff);
    if (pd < 0 || pa < 0 || pb < 0) {
      tsAdd(dst, dOff, a, aOff, b, bOff, n);
      return;
    }
    fits('add', 'dst', dst, dOff, n);
    fits('add', 'a', a, aOff, n);
    fits('add', 'b', b, bOff, n);
    ex.add(pd, pa, pb, n);
  };

  return {
    name: 'wasm',
    heap,
    scratch: scratchBlock,
    gemm,
    allocateFloat32: (length) => heap.allocate(length),
    release: (a) => heap.release(a),
    lstmForward,
    lstmBackward,
    copyBlocks,
    sumRows,
    add,
  };
}

/**
 * Elements a rows × cols matrix at `off` with leading dimension `ld` spans; throws RangeError when it does
 * not fit in `a` or `ld` is below `cols`.
 */
function span(name: string, a: FloatArray, off: number, rows: number, cols: number, ld: number): number {
  if (rows === 0 || cols === 0) return 0;
  const need = (rows - 1) * ld + cols;
  if (!Number.isInteger(ld) || ld < cols || !Number.isInteger(off) || off < 0 || off + need > a.length) {
    throw new RangeError(
      `gemm: ${name} is ${rows} × ${cols} with leading dimension ${ld} at offset ${off}, which needs ` +
        `ld >= ${cols} and ${off + need} elements; the array has ${a.length}`,
    );
  }
  return need;
}

/** [first, end) element range a strided block copy touches; throws when it leaves the array. */
function extent(
  name: string,
  a: FloatArray,
  off: number,
  outerStride: number,
  innerStride: number,
  outer: number,
  inner: number,
  n: number,
): [number, number] {
  const lo = off + Math.min(0, (outer - 1) * outerStride) + Math.min(0, (inner - 1) * innerStride);
  const hi = off + Math.max(0, (outer - 1) * outerStride) + Math.max(0, (inner - 1) * innerStride) + n;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > a.length) {
    throw new RangeError(`copyBlocks: ${name} spans elements [${lo}, ${hi}); the array has ${a.length}`);
  }
  return [lo, hi];
}

function fits(fn: string, name: string, a: FloatArray, off: number, length: number): void {
  if (!Number.isInteger(off) || off < 0 || off + length > a.length) {
    throw new RangeError(
      `${fn}: ${name} needs ${length} elements at offset ${off}; the array has ${a.length}`,
    );
  }
}

function code(a: RecurrentActivation): number {
  return ACTIVATION_CODES[a.name];
}
