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
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import type { FloatArray } from '../tensor.ts';
import type { Kernels } from './kernels.ts';
import { tsAdd, tsCopyBlocks, tsSumRows } from './ts-copy.ts';
import { tsActivate, tsNormalizeColumns } from './ts-elementwise.ts';
import { tsGemm } from './ts-gemm.ts';
import { dimension, extent, fits, span } from './wasm-checks.ts';
import { KernelDispatch } from './wasm-dispatch.ts';
import { activationCode, type Exports } from './wasm-exports.ts';
import { WASM_PAGE_BYTES, WasmHeap } from './wasm-heap.ts';
import { wasmRecurrentKernels } from './wasm-recurrent.ts';

/** Where `wasm/build.ts` writes the module. */
export const WASM_KERNELS_URL = new URL('../../wasm/kernels.wasm', import.meta.url);

/** Initial and maximum memory: 16 MiB grows on demand up to 1 GiB (virtual until touched). */
const INITIAL_PAGES = 256;
const MAXIMUM_PAGES = 16384;

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

/**
 * Below this many multiply-adds per task, `concurrently` runs both tasks on the calling thread: the
 * hand-off to the worker costs tens of µs.
 */
const MIN_CONCURRENT_WORK = 2e6;

export interface WasmKernelOptions {
  /** The module's bytes (default: wasm/kernels.wasm). */
  bytes?: Uint8Array;
  /**
   * 2: `concurrently` runs its second task on a worker thread; 1 (default): everything on the calling
   * thread. `KWS_NN_THREADS=2` opts in, on the main thread of a machine with 2 or more cores only.
   * Personalize runs with it used to hang for good, both threads idle in Atomics.wait: the hand-off lost
   * the worker's wake-up when it finished between two reads of the done word (fixed in wasm-thread.ts'
   * `wait`; README.md says how it was found). It stays opt-in: detection and the worker's jobs are
   * measured on one core, and with the second core busy the hand-off costs more than it saves.
   */
  threads?: 1 | 2;
  /** Multiply-adds per task from which `concurrently` uses the worker (default 2e6; tests use 0). */
  minConcurrentWork?: number;
}

export interface WasmKernels extends Kernels {
  readonly heap: WasmHeap;
  /** Whether `concurrently` can use a worker now (it starts in the background on first use). */
  readonly threadReady: boolean;
  /** Waits (up to `timeoutMs`) for the worker to be ready; false when there is none. For tests and benches. */
  waitForThread(timeoutMs?: number): boolean;
  /** How many `concurrently` calls ran their second task on the worker. */
  readonly threadTasks: number;
  /**
   * Runs the peak loop of wasm/src/peak.c (12 independent f32x4 multiply-add chains, 96 flops per
   * iteration) on this thread; the bench times it to quote GEMM against the machine's SIMD peak.
   */
  peakMultiplyAdd(iterations: number): void;
}

/**
 * Compiles and instantiates the kernels over a fresh memory; null where the runtime lacks what they need
 * (`wasmUnsupportedReason`). A missing or broken module file throws.
 */
export function createWasmKernels(options: WasmKernelOptions = {}): WasmKernels | null {
  if (wasmUnsupportedReason() !== null) return null;
  const bytes = options.bytes ?? readFileSync(WASM_KERNELS_URL);
  const threads =
    options.threads ??
    (isMainThread && availableParallelism() >= 2 && process.env.KWS_NN_THREADS === '2' ? 2 : 1);
  const minWork = options.minConcurrentWork ?? MIN_CONCURRENT_WORK;
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const ex = instance.exports as unknown as Exports & { __heap_base: WebAssembly.Global };
  const heap = new WasmHeap(memory, ex.__heap_base.value, MAXIMUM_PAGES * WASM_PAGE_BYTES);
  const d = new KernelDispatch(ex, heap, module, memory, threads, minWork);
  let peakBlock: Float32Array | null = null;

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
    dimension('m', m);
    dimension('n', n);
    dimension('k', k);
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
    // Operands outside the heap are staged through it (a caller's input; layer buffers never are); the
    // copies are JS, so they run now, after whatever was recorded before.
    if (pa < 0 || pb < 0 || pc < 0) d.flush();
    const staging = d.target;
    if (pa < 0 || pb < 0 || pc < 0) d.target = ex;
    const sa = pa < 0 ? stage(a, aOff, aSpan) : null;
    const sb = pb < 0 ? stage(b, bOff, bSpan) : null;
    const sc = pc < 0 ? stage(c, cOff, cSpan) : null;
    if (sa) pa = sa.byteOffset;
    if (sb) pb = sb.byteOffset;
    if (sc) pc = sc.byteOffset;
    try {
      d.target.gemm(
        +transA,
        +transB,
        m,
        n,
        k,
        alpha,
        pa,
        lda,
        pb,
        ldb,
        beta,
        pc,
        ldc,
        d.space.scratch.byteOffset,
      );
      if (sc) for (let i = 0; i < cSpan; i++) c[cOff + i] = sc[i];
    } finally {
      d.target = staging;
      if (sa) heap.release(sa);
      if (sb) heap.release(sb);
      if (sc) heap.release(sc);
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
      d.flush();
      tsCopyBlocks(dst, dOff, dOuter, dInner, src, sOff, sOuter, sInner, outer, inner, n);
      return;
    }
    if (outer <= 0 || inner <= 0 || n <= 0) return;
    const [d0, d1] = extent('dst', dst, dOff, dOuter, dInner, outer, inner, n);
    const [s0, s1] = extent('src', src, sOff, sOuter, sInner, outer, inner, n);
    if (overlaps(dst, d0, d1 - d0, src, s0, s1 - s0)) {
      throw new RangeError('copyBlocks: the regions dst and src span overlap');
    }
    d.target.copy_blocks(pd, dOuter, dInner, ps, sOuter, sInner, outer, inner, n);
  };

  const sumRows: Kernels['sumRows'] = (dst, dOff, src, sOff, rows, n) => {
    const pd = address(dst, dOff);
    const ps = address(src, sOff);
    if (pd < 0 || ps < 0) {
      d.flush();
      tsSumRows(dst, dOff, src, sOff, rows, n);
      return;
    }
    fits('sumRows', 'dst', dst, dOff, n);
    fits('sumRows', 'src', src, sOff, rows * n);
    d.target.sum_rows(pd, ps, rows, n);
  };

  const add: Kernels['add'] = (dst, dOff, a, aOff, b, bOff, n) => {
    const pd = address(dst, dOff);
    const pa = address(a, aOff);
    const pb = address(b, bOff);
    if (pd < 0 || pa < 0 || pb < 0) {
      d.flush();
      tsAdd(dst, dOff, a, aOff, b, bOff, n);
      return;
    }
    fits('add', 'dst', dst, dOff, n);
    fits('add', 'a', a, aOff, n);
    fits('add', 'b', b, bOff, n);
    d.target.add(pd, pa, pb, n);
  };

  const activate: Kernels['activate'] = (activation, a, off, n) => {
    const pa = address(a, off);
    if (pa < 0) {
      d.flush();
      tsActivate(activation, a, off, n);
      return;
    }
    fits('activate', 'a', a, off, n);
    d.target.activate(activationCode(activation), pa, n);
  };

  const normalizeColumns: Kernels['normalizeColumns'] = (dst, src, mean, scale, shift, rows, n) => {
    const pd = address(dst, 0);
    const ps = address(src, 0);
    const pm = address(mean, 0);
    const pk = address(scale, 0);
    const pb = address(shift, 0);
    if (pd < 0 || ps < 0 || pm < 0 || pk < 0 || pb < 0) {
      d.flush();
      tsNormalizeColumns(dst, src, mean, scale, shift, rows, n);
      return;
    }
    fits('normalizeColumns', 'dst', dst, 0, rows * n);
    fits('normalizeColumns', 'src', src, 0, rows * n);
    fits('normalizeColumns', 'mean', mean, 0, n);
    fits('normalizeColumns', 'scale', scale, 0, n);
    fits('normalizeColumns', 'shift', shift, 0, n);
    // In place (dst = src) is fine; any other overlap would read values already written.
    if (dst !== src && overlaps(dst, 0, rows * n, src, 0, rows * n)) {
      throw new RangeError('normalizeColumns: dst and src overlap without being the same array');
    }
    d.target.normalize_columns(pd, ps, pm, pk, pb, rows, n);
  };

  return {
    name: 'wasm',
    heap,
    peakMultiplyAdd(iterations) {
      if (!peakBlock) {
        peakBlock = heap.allocate(12);
        peakBlock.fill(0.999, 0, 4); // m
        peakBlock.fill(0.001, 4, 8); // x
        peakBlock.fill(1, 8, 12); // start: s = s·m + x stays at 1
      }
      ex.peak_multiply_add(iterations, peakBlock.byteOffset);
    },
    get threadTasks() {
      return d.tasks;
    },
    get threadReady() {
      return d.threadReady;
    },
    waitForThread: (timeoutMs = 10_000) => d.waitForThread(timeoutMs),
    concurrently: d.concurrently,
    gemm,
    allocateFloat32: (length) => heap.allocate(length),
    release: (a) => heap.release(a),
    ...wasmRecurrentKernels(d, address),
    copyBlocks,
    sumRows,
    add,
    activate,
    normalizeColumns,
  };
}
