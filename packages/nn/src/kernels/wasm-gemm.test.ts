/**
 * The wasm SGEMM against the pure-TS GEMM run in float64 (the oracle), over a grid of shapes that hits every
 * path: m = 1 (the GEMV path), sizes not multiple of the 4 × 8 micro-tile, of 16 or of the KC/MC/NC
 * blocks (256, 128, 1024), all four transpose pairs, alpha/beta variants, offsets and leading dimensions
 * larger than the matrix. Plus staging of arrays outside the heap, float64 delegation, and the errors.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../layers/rnn/initializers.ts';
import { tsGemm } from './ts-gemm.ts';
import { createWasmKernels } from './wasm.ts';

const wasm = createWasmKernels()!;
const random = seededRandom(42);

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** Extra columns of padding in each leading dimension, and the offset of each matrix. */
  pad: number;
  off: number;
}

function fill(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = 2 * random() - 1;
  return a;
}

/** Runs one case on the wasm kernels with the given allocator and checks it against float64 TS. */
function check(c: Case, alloc: (n: number) => Float32Array = (n) => wasm.allocateFloat32(n)): void {
  const { transA, transB, m, n, k, alpha, beta, pad, off } = c;
  const [aRows, aCols] = transA ? [k, m] : [m, k];
  const [bRows, bCols] = transB ? [n, k] : [k, n];
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = n + pad;
  const a = fill(alloc(off + aRows * lda));
  const b = fill(alloc(off + bRows * ldb));
  const c0 = fill(alloc(off + m * ldc));
  const expected = Float64Array.from(c0);
  tsGemm(
    transA,
    transB,
    m,
    n,
    k,
    alpha,
    Float64Array.from(a),
    off,
    lda,
    Float64Array.from(b),
    off,
    ldb,
    beta,
    expected,
    off,
    ldc,
  );
  // Bound on float32 round-off: k · 2^-23 relative to Σ|alpha · a · b| + |beta · c|, per element.
  const bound = new Float64Array(expected.length);
  tsGemm(
    transA,
    transB,
    m,
    n,
    k,
    Math.abs(alpha),
    Float64Array.from(a, Math.abs),
    off,
    lda,
    Float64Array.from(b, Math.abs),
    off,
    ldb,
    0,
    bound,
    off,
    ldc,
  );
  const actual = c0;
  wasm.gemm(transA, transB, m, n, k, alpha, a, off, lda, b, off, ldb, beta, actual, off, ldc);
  for (let i = 0; i < actual.length; i++) {
    const row = Math.floor((i - off) / ldc);
    const col = (i - off) % ldc;
    const inside = i >= off && row < m && col < n;
    if (!inside) {
      // Padding and the prefix are untouched.
      if (actual[i] !== Math.fround(expected[i])) throw new Error(`${label(c)}: wrote outside C at ${i}`);
      continue;
    }
    const tol = 1.2e-7 * (k + 4) * (bound[i] + Math.abs(beta * expected[i]) + 1e-30) + 1e-30;
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(
        `${label(c)}: C[${row}, ${col}] is ${actual[i]}, expected ${expected[i]} (tolerance ${tol})`,
      );
    }
  }
}

function label(c: Case): string {
  return `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'} m${c.m} n${c.n} k${c.k} alpha ${c.alpha} beta ${c.beta} pad ${c.pad} off ${c.off}`;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 3],
  [1, 37, 65],
  [1, 256, 64],
  [2, 1, 5],
  [3, 5, 7],
  [4, 8, 1],
  [5, 9, 17],
  [7, 33, 4],
  [16, 256, 64],
  [16, 64, 256],
  [17, 15, 33],
  [31, 1, 130],
  [64, 3, 2],
  [129, 17, 257],
];

describe('wasm gemm equals the TS gemm', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} over sizes, alpha/beta, offsets and leading dimensions`, () => {
        let variant = 0;
        for (const [m, n, k] of SHAPES) {
          const [alpha, beta] = [
            [1, 0],
            [1, 1],
            [0.5, -2],
            [-1.5, 0.25],
          ][variant % 4];
          check({ transA, transB, m, n, k, alpha, beta, pad: variant % 3, off: (variant * 7) % 5 });
          variant++;
        }
      });
    }
  }

  it('crosses every cache block (m > 128, n > 1024, k > 256) in all transposes', () => {
    for (const transA of [false, true])
      for (const transB of [false, true])
        check({ transA, transB, m: 131, n: 1030, k: 261, alpha: 0.75, beta: 0.5, pad: 1, off: 3 });
  });

  it('alpha = 0 or k = 0 only scales C; beta = 0 overwrites NaN and Inf in C', () => {
    check({ transA: false, transB: false, m: 3, n: 5, k: 4, alpha: 0, beta: 0.5, pad: 1, off: 0 });
    check({ transA: true, transB: false, m: 6, n: 9, k: 0, alpha: 1, beta: -1, pad: 0, off: 2 });
    const a = fill(wasm.allocateFloat32(12));
    const b = fill(wasm.allocateFloat32(12));
    const c = wasm.allocateFloat32(9).fill(Number.NaN);
    c[4] = Number.POSITIVE_INFINITY;
    wasm.gemm(false, false, 3, 3, 4, 1, a, 0, 4, b, 0, 3, 0, c, 0, 3);
    expect(c.every(Number.isFinite)).toBe(true);
  });

  it('stages float32 arrays that are not in the heap (and writes C back)', () => {
    const plain = (n: number) => new Float32Array(n);
    check({ transA: false, transB: true, m: 9, n: 13, k: 21, alpha: 1, beta: 1, pad: 2, off: 1 }, plain);
    check({ transA: true, transB: false, m: 1, n: 40, k: 7, alpha: 2, beta: 0, pad: 0, off: 0 }, plain);
    const before = wasm.heap.stats.liveBlocks;
    check({ transA: false, transB: false, m: 20, n: 20, k: 20, alpha: 1, beta: 0, pad: 0, off: 0 }, plain);
    expect(wasm.heap.stats.liveBlocks).toBe(before);
  });

  it('runs float64 arrays through the TS kernel, bit for bit', () => {
    const a = Float64Array.from({ length: 6 }, () => random());
    const b = Float64Array.from({ length: 6 }, () => random());
    const ours = new Float64Array(4);
    const theirs = new Float64Array(4);
    wasm.gemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, ours, 0, 2);
    tsGemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, theirs, 0, 2);
    expect(ours).toEqual(theirs);
  });

  it('works on views taken before the memory grew', () => {
    const a = fill(wasm.allocateFloat32(64 * 64));
    const b = fill(wasm.allocateFloat32(64 * 64));
    const c = wasm.allocateFloat32(64 * 64);
    const grownFrom = wasm.heap.stats.memoryBytes;
    const big = wasm.allocateFloat32(grownFrom / 4);
    expect(wasm.heap.stats.memoryBytes).toBeGreaterThan(grownFrom);
    wasm.gemm(false, false, 64, 64, 64, 1, a, 0, 64, b, 0, 64, 0, c, 0, 64);
    const expected = new Float64Array(64 * 64);
    tsGemm(
      false,
      false,
      64,
      64,
      64,
      1,
      Float64Array.from(a),
      0,
      64,
      Float64Array.from(b),
      0,
      64,
      0,
      expected,
      0,
      64,
    );
    for (let i = 0; i < c.length; i++) expect(Math.abs(c[i] - expected[i])).toBeLessThan(1e-4);
    wasm.release(big);
  });

  it('refuses extents beyond the arrays and C overlapping A or B, naming what it received', () => {
    const a = wasm.allocateFloat32(12);
    const c = wasm.allocateFloat32(12);
    expect(() => wasm.gemm(false, false, 3, 4, 4, 1, a, 0, 4, a, 0, 4, 0, c, 0, 4)).toThrow(
      'gemm: B is 4 × 4 with leading dimension 4 at offset 0, which needs ld >= 4 and 16 elements; the array has 12',
    );
    expect(() => wasm.gemm(false, false, 3, 4, 2, 1, a, 0, 1, a, 0, 4, 0, c, 0, 4)).toThrow(/ld >= 2/);
    expect(() => wasm.gemm(false, false, 2, 2, 2, 1, a, 0, 2, a, 4, 2, 0, a, 2, 2)).toThrow(
      'gemm: C overlaps A or B; the product cannot be written over its own inputs',
    );
    expect(() => wasm.gemm(false, false, 2.5, 2, 2, 1, a, 0, 2, a, 4, 2, 0, c, 0, 2)).toThrow(
      'gemm: m must be an integer >= 0; received 2.5',
    );
  });
});
