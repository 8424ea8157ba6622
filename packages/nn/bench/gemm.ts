/**
 * The wasm SGEMM in GFLOP/s next to the machine's measured SIMD peak (`peakMultiplyAdd`: 12 independent
 * f32x4 multiply-add chains on one core, wasm/src/peak.c), at 256³ and at the shapes the reference model
 * really runs (training batch 16 × 150 frames, and one 150-frame inference window).
 *
 * Rates are the best of 7 rounds of ~20 ms, for the peak and the GEMMs alike: on a machine shared with
 * other jobs a round can only be slowed down, so the best round is the closest to what the code does.
 */
import type { WasmKernels } from '../src/kernels/wasm.ts';

export interface GemmShape {
  what: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}

const T = 150;
const B = 16;
const U = 64;

export const GEMM_SHAPES: GemmShape[] = [
  { what: '256³', transA: false, transB: false, m: 256, n: 256, k: 256 },
  { what: '256³', transA: false, transB: true, m: 256, n: 256, k: 256 },
  { what: '256³', transA: true, transB: false, m: 256, n: 256, k: 256 },
  { what: 'train: Conv1D im2col · kernel', transA: false, transB: false, m: B * T, n: 32, k: 39 },
  { what: 'train: LSTM x · kernel (all steps)', transA: false, transB: false, m: B * T, n: 4 * U, k: 32 },
  { what: 'train: LSTM h · recurrent_kernel (one step)', transA: false, transB: false, m: B, n: 4 * U, k: U },
  {
    what: 'train: LSTM dz · recurrent_kernelᵀ (one step, Uᵀ stored)',
    transA: false,
    transB: false,
    m: B,
    n: U,
    k: 4 * U,
  },
  { what: 'train: LSTM dkernel += xᵀ · dz', transA: true, transB: false, m: 32, n: 4 * U, k: B * T },
  { what: 'train: LSTM drecurrent_kernel += hᵀ · dz', transA: true, transB: false, m: U, n: 4 * U, k: B * T },
  { what: 'train: LSTM dx = dz · kernelᵀ', transA: false, transB: true, m: B * T, n: 32, k: 4 * U },
  { what: 'infer: LSTM x · kernel (all steps)', transA: false, transB: false, m: T, n: 4 * U, k: 32 },
  { what: 'infer: LSTM h · recurrent_kernel (one step)', transA: false, transB: false, m: 1, n: 4 * U, k: U },
];

export interface GemmResult extends GemmShape {
  gflops: number;
}

/** Best of `rounds` timings of `fn` repeated `reps` times, in ms per call. */
function timePerCall(fn: () => void, reps: number, rounds = 7): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6 / reps);
  }
  return best;
}

/**
 * GFLOP/s of the peak loop. Warm-up calls first: wasm starts in V8's baseline compiler and a call already
 * running never switches to the optimized code, so only calls made after tier-up measure it.
 */
export function measurePeak(k: WasmKernels): number {
  for (let i = 0; i < 20; i++) k.peakMultiplyAdd(100_000);
  const iterations = 1_500_000;
  const ms = timePerCall(() => k.peakMultiplyAdd(iterations), 1);
  return (96 * iterations) / (ms * 1e6);
}

export function measureGemm(k: WasmKernels, shape: GemmShape): GemmResult {
  const { transA, transB, m, n, k: depth } = shape;
  const a = k.allocateFloat32(m * depth).fill(0.01);
  const b = k.allocateFloat32(depth * n).fill(0.02);
  const c = k.allocateFloat32(m * n);
  const lda = transA ? m : depth;
  const ldb = transB ? depth : n;
  const call = () => k.gemm(transA, transB, m, n, depth, 1, a, 0, lda, b, 0, ldb, 0, c, 0, n);
  const flops = 2 * m * n * depth;
  // About 20 ms per round.
  const reps = Math.max(1, Math.round(20e6 / (flops / 10)));
  for (let i = 0; i < Math.max(20, Math.min(reps, 50)); i++) call(); // past V8's tier-up (see measurePeak)
  const ms = timePerCall(call, reps);
  k.release(a);
  k.release(b);
  k.release(c);
  return { ...shape, gflops: flops / (ms * 1e6) };
}
