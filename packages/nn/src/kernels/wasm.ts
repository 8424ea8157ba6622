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
import type { RecurrentActivation, RecurrentActivationName } from '../layers/rnn/activations.ts';
import type { FloatArray } from '../tensor.ts';
import type { Kernels } from './kernels.ts';
import { tsAdd, tsCopyBlocks, tsSumRows } from './ts-copy.ts';
import { tsGemm } from './ts-gemm.ts';
import { tsGruBackward, tsGruForward, tsLstmBackward, tsLstmForward } from './ts-recurrent.ts';
import { WASM_PAGE_BYTES, WasmHeap } from './wasm-heap.ts';
import { KernelThread, MAX_CALL_WORDS } from './wasm-thread.ts';

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
const KERNEL_NAMES = [
  'gemm',
  'lstm_forward',
  'lstm_backward',
  'gru_forward',
  'gru_backward',
  'copy_blocks',
  'sum_rows',
  'add',
] as const;

/**
 * Below this many multiply-adds per task, `concurrently` runs both tasks on the calling thread: the
 * hand-off to the worker costs tens of µs.
 */
const MIN_CONCURRENT_WORK = 2e6;

export interface WasmKernelOptions {
  /** The module's bytes (default: wasm/kernels.wasm). */
  bytes?: Uint8Array;
  /**
   * 2: `concurrently` runs its second task on a worker thread (default where the machine has 2 or more
   * cores and `KWS_NN_THREADS` is not 1); 1: everything on the calling thread.
   */
  threads?: 1 | 2;
  /** Multiply-adds per task from which `concurrently` uses the worker (default 2e6; tests use 0). */
  minConcurrentWork?: number;
}

/** Per-thread kernel space: GEMM panels and the transposed recurrent kernel of lstmBackward. */
interface ThreadSpace {
  /** Held here: the heap frees a block whose view is garbage-collected, and an address alone does not. */
  scratch: Float32Array;
  transposed: Float32Array | null;
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
    options.threads ?? (availableParallelism() >= 2 && process.env.KWS_NN_THREADS !== '1' ? 2 : 1);
  const minWork = options.minConcurrentWork ?? MIN_CONCURRENT_WORK;
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const ex = instance.exports as unknown as Exports & { __heap_base: WebAssembly.Global };
  const heap = new WasmHeap(memory, ex.__heap_base.value, MAXIMUM_PAGES * WASM_PAGE_BYTES);
  const threadSpace = (): ThreadSpace => ({
    scratch: heap.allocate(ex.gemm_scratch_floats()),
    transposed: null,
  });
  const mainSpace = threadSpace();

  // Kernel calls go to `target`: the instance's exports, or, while `concurrently` records its second task
  // for the worker, a recorder that appends them to the worker's call list. `space` follows the thread.
  let target: Exports = ex;
  let space = mainSpace;
  let thread: KernelThread | null = null;
  let workerSpace: ThreadSpace | null = null;
  let recorded = 0;
  let words = 1;
  let threadTasks = 0;
  let peakBlock: Float32Array | null = null;
  const recorder = Object.fromEntries(
    KERNEL_NAMES.map((name, index) => [
      name,
      (...args: number[]) => {
        const calls = thread!.calls;
        if (words + 2 + args.length > MAX_CALL_WORDS) flush();
        calls[words++] = index;
        calls[words++] = args.length;
        for (const a of args) calls[words++] = a;
        recorded++;
      },
    ]),
  ) as unknown as Exports;

  /** Runs what was recorded so far on this thread (in order), before work that cannot be recorded. */
  function flush(): void {
    if (target !== recorder || recorded === 0) return;
    const calls = thread!.calls;
    for (let i = 1, c = 0; c < recorded; c++) {
      const fn = ex[KERNEL_NAMES[calls[i++]]] as (...a: number[]) => void;
      const argc = calls[i++];
      fn(...calls.subarray(i, i + argc));
      i += argc;
    }
    recorded = 0;
    words = 1;
  }

  function startThread(): KernelThread | null {
    if (threads < 2) return null;
    if (!thread) {
      thread = new KernelThread(module, memory, KERNEL_NAMES);
      workerSpace = threadSpace();
    }
    return thread.ready ? thread : null;
  }

  const concurrently: Kernels['concurrently'] = (first, second, work) => {
    const worker = work >= minWork ? startThread() : null;
    if (!worker) {
      first();
      second();
      return;
    }
    target = recorder;
    space = workerSpace!;
    try {
      second();
    } catch (e) {
      recorded = 0;
      words = 1;
      throw e;
    } finally {
      target = ex;
      space = mainSpace;
    }
    if (recorded === 0) {
      first();
      return;
    }
    worker.calls[0] = recorded;
    recorded = 0;
    words = 1;
    worker.start();
    threadTasks++;
    try {
      first();
    } finally {
      // Even when `first` threw: the worker is writing into memory the caller is about to see.
      worker.wait();
    }
  };

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
    if (pa < 0 || pb < 0 || pc < 0) flush();
    const staging = target;
    if (pa < 0 || pb < 0 || pc < 0) target = ex;
    const sa = pa < 0 ? stage(a, aOff, aSpan) : null;
    const sb = pb < 0 ? stage(b, bOff, bSpan) : null;
    const sc = pc < 0 ? stage(c, cOff, cSpan) : null;
    if (sa) pa = sa.byteOffset;
    if (sb) pb = sb.byteOffset;
    if (sc) pc = sc.byteOffset;
    try {
      target.gemm(
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
        space.scratch.byteOffset,
      );
      if (sc) for (let i = 0; i < cSpan; i++) c[cOff + i] = sc[i];
    } finally {
      target = staging;
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

  /** Room for a transposed recurrent kernel (lstmBackward) on the current thread, grown on demand and kept. */
  function transposeSpace(floats: number): number {
    if (!space.transposed || space.transposed.length < floats) {
      if (space.transposed) heap.release(space.transposed);
      space.transposed = heap.allocate(floats);
    }
    return space.transposed.byteOffset;
  }

  const lstmForward: Kernels['lstmForward'] = (B, T, u, gates, h, c, U, rec, act) => {
    const pg = address(gates, 0);
    const ph = address(h, 0);
    const pc = address(c, 0);
    const pu = address(U, 0);
    if (pg < 0 || ph < 0 || pc < 0 || pu < 0) {
      flush();
      tsLstmForward(B, T, u, gates, h, c, U, rec, act);
      return;
    }
    fits('lstmForward', 'gates', gates, 0, T * B * 4 * u);
    fits('lstmForward', 'h', h, 0, (T + 1) * B * u);
    fits('lstmForward', 'c', c, 0, (T + 1) * B * u);
    fits('lstmForward', 'recurrentKernel', U, 0, u * 4 * u);
    target.lstm_forward(B, T, u, pg, ph, pc, pu, code(rec), code(act), space.scratch.byteOffset);
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
      flush();
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
    target.lstm_backward(
      B,
      T,
      u,
      pdg,
      pg,
      pc,
      pdh,
      pdc,
      pu,
      pdy,
      code(rec),
      code(act),
      space.scratch.byteOffset,
      pt,
    );
  };

  const gruForward: Kernels['gruForward'] = (
    B,
    T,
    u,
    resetAfter,
    gates,
    h,
    extra,
    scr,
    U,
    bRec,
    bOff,
    rec,
    act,
  ) => {
    const pg = address(gates, 0);
    const ph = address(h, 0);
    const pe = address(extra, 0);
    const ps = address(scr, 0);
    const pu = address(U, 0);
    const pb = bRec ? address(bRec, bOff) : 0;
    if (pg < 0 || ph < 0 || pe < 0 || ps < 0 || pu < 0 || pb < 0) {
      flush();
      tsGruForward(B, T, u, resetAfter, gates, h, extra, scr, U, bRec, bOff, rec, act);
      return;
    }
    fits('gruForward', 'gates', gates, 0, T * B * 3 * u);
    fits('gruForward', 'h', h, 0, (T + 1) * B * u);
    fits('gruForward', 'extra', extra, 0, T * B * u);
    fits('gruForward', 'scratch', scr, 0, B * (resetAfter ? 3 * u : u));
    fits('gruForward', 'recurrentKernel', U, 0, u * 3 * u);
    if (bRec) fits('gruForward', 'recurrentBias', bRec, bOff, 3 * u);
    target.gru_forward(
      B,
      T,
      u,
      +resetAfter,
      pg,
      ph,
      pe,
      ps,
      pu,
      resetAfter ? pb : 0,
      code(rec),
      code(act),
      space.scratch.byteOffset,
    );
  };

  const gruBackward: Kernels['gruBackward'] = (
    B,
    T,
    u,
    resetAfter,
    dGates,
    dRec,
    gates,
    h,
    extra,
    scr,
    dh,
    U,
    dy,
    rec,
    act,
  ) => {
    const pdg = address(dGates, 0);
    const pdr = address(dRec, 0);
    const pg = address(gates, 0);
    const ph = address(h, 0);
    const pe = address(extra, 0);
    const ps = address(scr, 0);
    const pdh = address(dh, 0);
    const pu = address(U, 0);
    const pdy = dy ? address(dy, 0) : 0;
    if (pdg < 0 || pdr < 0 || pg < 0 || ph < 0 || pe < 0 || ps < 0 || pdh < 0 || pu < 0 || pdy < 0) {
      flush();
      tsGruBackward(B, T, u, resetAfter, dGates, dRec, gates, h, extra, scr, dh, U, dy, rec, act);
      return;
    }
    fits('gruBackward', 'dGates', dGates, 0, T * B * 3 * u);
    if (resetAfter) fits('gruBackward', 'dRec', dRec, 0, T * B * 3 * u);
    fits('gruBackward', 'gates', gates, 0, T * B * 3 * u);
    fits('gruBackward', 'h', h, 0, (T + 1) * B * u);
    fits('gruBackward', 'extra', extra, 0, T * B * u);
    fits('gruBackward', 'scratch', scr, 0, resetAfter ? 0 : B * u);
    fits('gruBackward', 'dh', dh, 0, B * u);
    fits('gruBackward', 'recurrentKernel', U, 0, u * 3 * u);
    if (dy) fits('gruBackward', 'dOutput', dy, 0, B * T * u);
    target.gru_backward(
      B,
      T,
      u,
      +resetAfter,
      pdg,
      pdr,
      pg,
      ph,
      pe,
      ps,
      pdh,
      pu,
      pdy,
      code(rec),
      code(act),
      space.scratch.byteOffset,
    );
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
      flush();
      tsCopyBlocks(dst, dOff, dOuter, dInner, src, sOff, sOuter, sInner, outer, inner, n);
      return;
    }
    if (outer <= 0 || inner <= 0 || n <= 0) return;
    const [d0, d1] = extent('dst', dst, dOff, dOuter, dInner, outer, inner, n);
    const [s0, s1] = extent('src', src, sOff, sOuter, sInner, outer, inner, n);
    if (overlaps(dst, d0, d1 - d0, src, s0, s1 - s0)) {
      throw new RangeError('copyBlocks: the regions dst and src span overlap');
    }
    target.copy_blocks(pd, dOuter, dInner, ps, sOuter, sInner, outer, inner, n);
  };

  const sumRows: Kernels['sumRows'] = (dst, dOff, src, sOff, rows, n) => {
    const pd = address(dst, dOff);
    const ps = address(src, sOff);
    if (pd < 0 || ps < 0) {
      flush();
      tsSumRows(dst, dOff, src, sOff, rows, n);
      return;
    }
    fits('sumRows', 'dst', dst, dOff, n);
    fits('sumRows', 'src', src, sOff, rows * n);
    target.sum_rows(pd, ps, rows, n);
  };

  const add: Kernels['add'] = (dst, dOff, a, aOff, b, bOff, n) => {
    const pd = address(dst, dOff);
    const pa = address(a, aOff);
    const pb = address(b, bOff);
    if (pd < 0 || pa < 0 || pb < 0) {
      flush();
      tsAdd(dst, dOff, a, aOff, b, bOff, n);
      return;
    }
    fits('add', 'dst', dst, dOff, n);
    fits('add', 'a', a, aOff, n);
    fits('add', 'b', b, bOff, n);
    target.add(pd, pa, pb, n);
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
      return threadTasks;
    },
    get threadReady() {
      return thread?.ready ?? false;
    },
    waitForThread(timeoutMs = 10_000) {
      if (threads < 2) return false;
      startThread();
      const until = Date.now() + timeoutMs;
      const nap = new Int32Array(new SharedArrayBuffer(4));
      while (!thread!.ready && Date.now() < until) Atomics.wait(nap, 0, 0, 5);
      return thread!.ready;
    },
    concurrently,
    gemm,
    allocateFloat32: (length) => heap.allocate(length),
    release: (a) => heap.release(a),
    lstmForward,
    lstmBackward,
    gruForward,
    gruBackward,
    copyBlocks,
    sumRows,
    add,
  };
}

function dimension(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw new RangeError(`gemm: ${name} must be an integer >= 0; received ${v}`);
  }
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
