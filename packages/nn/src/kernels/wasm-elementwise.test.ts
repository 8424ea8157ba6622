/**
 * The wasm elementwise kernels (`activate`, `normalizeColumns`) against float64 definitions, over sizes
 * that are 1, odd, not a multiple of the SIMD width, and large. (The activations' accuracy near 0, at
 * saturation and for NaN is swept in wasm-recurrent.test.ts through the LSTM kernel, which shares them.)
 */
import { describe, expect, it } from 'vitest';
import { recurrentActivation } from '../layers/rnn/activations.ts';
import { seededRandom } from '../layers/rnn/initializers.ts';
import { createWasmKernels } from './wasm.ts';

const wasm = createWasmKernels()!;
const random = seededRandom(11);

function heapRandom(n: number, scale = 1, offset = 0): Float32Array {
  const a = wasm.allocateFloat32(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * (2 * random() - 1);
  return a;
}

describe('wasm activate', () => {
  it.each(['relu', 'sigmoid', 'tanh', 'hard_sigmoid', 'linear'] as const)(
    '%s over 1, 3, 4, 7 and 4801 elements at an offset, within 4 ulp of float64',
    (name) => {
      const f = recurrentActivation(name, 'activation');
      for (const n of [1, 3, 4, 7, 4801]) {
        const a = heapRandom(n + 2, 12);
        const before = Float32Array.from(a);
        wasm.activate(f, a, 1, n);
        expect(a[0]).toBe(before[0]);
        expect(a[n + 1]).toBe(before[n + 1]);
        for (let i = 1; i <= n; i++) {
          const want = f.fn(before[i]);
          // hard_sigmoid rounds 0.2·x before adding 0.5 in float32: one ulp of that 0.5.
          const slack = name === 'hard_sigmoid' ? 2 ** -24 : 0;
          expect(Math.abs(a[i] - want)).toBeLessThanOrEqual(4 * 2 ** -23 * Math.abs(want) + slack);
        }
      }
    },
  );

  it('falls back to TS for an array outside the heap and refuses a block past the end', () => {
    const f = recurrentActivation('tanh', 'activation');
    const a = Float32Array.from([0.5, -2, 3]);
    wasm.activate(f, a, 0, 3);
    expect(Array.from(a)).toEqual([0.5, -2, 3].map((x) => Math.fround(Math.tanh(x))));
    expect(() => wasm.activate(f, heapRandom(4), 2, 3)).toThrow(/activate: a needs 3 elements at offset 2/);
  });
});

describe('wasm normalizeColumns', () => {
  it.each([
    [1, 1],
    [3, 5],
    [74, 32],
    [17, 64],
    [150, 7],
  ])('%i rows of %i columns, also in place', (rows, n) => {
    const x = heapRandom(rows * n, 3, 0.5);
    const mean = heapRandom(n, 1);
    const scale = heapRandom(n, 2);
    const shift = heapRandom(n, 1);
    const y = wasm.allocateFloat32(rows * n);
    wasm.normalizeColumns(y, x, mean, scale, shift, rows, n);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        const d = x[r * n + j] - mean[j];
        const want = d * scale[j] + shift[j];
        // Float32 rounding of the difference, the product and the sum.
        const bound = 2 ** -23 * (Math.abs(d * scale[j]) * 2 + Math.abs(want));
        expect(Math.abs(y[r * n + j] - want)).toBeLessThanOrEqual(bound);
      }
    }
    const inPlace = Float32Array.from(x);
    const xHeap = wasm.allocateFloat32(rows * n);
    xHeap.set(inPlace);
    wasm.normalizeColumns(xHeap, xHeap, mean, scale, shift, rows, n);
    expect(xHeap).toEqual(y);
  });

  it('refuses overlapping dst and src and short per-column arrays', () => {
    const x = heapRandom(40);
    const c = heapRandom(4);
    expect(() => wasm.normalizeColumns(x.subarray(4), x, c, c, c, 9, 4)).toThrow(/overlap/);
    expect(() => wasm.normalizeColumns(heapRandom(40), x, c, heapRandom(3), c, 10, 4)).toThrow(
      /normalizeColumns: scale needs 4 elements/,
    );
  });
});
