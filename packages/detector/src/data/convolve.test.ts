import { describe, expect, it } from 'vitest';
import { convolve } from './convolve.ts';
import { createRng } from './random.ts';

function direct(x: Float32Array, h: Float32Array): Float64Array {
  const y = new Float64Array(x.length + h.length - 1);
  for (let i = 0; i < x.length; i++) for (let j = 0; j < h.length; j++) y[i + j] += x[i] * h[j];
  return y;
}

describe('convolve (FFT)', () => {
  it('equals direct convolution over sizes that are and are not powers of two', () => {
    const rng = createRng('conv');
    for (const [n, m] of [
      [1, 1],
      [7, 3],
      [3, 7],
      [64, 64],
      [100, 37],
      [1000, 513],
      [4097, 9],
    ]) {
      const x = Float32Array.from({ length: n }, () => rng.normal());
      const h = Float32Array.from({ length: m }, () => rng.normal());
      const want = direct(x, h);
      const got = convolve(x, h);
      expect(got.length).toBe(n + m - 1);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst, `${n}×${m}`).toBeLessThan(1e-4);
    }
  });

  it('truncates or zero-fills to the asked length', () => {
    const x = Float32Array.from([1, 2, 3]);
    const h = Float32Array.from([1, -1]);
    expect(Array.from(convolve(x, h, 2)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 1]);
    expect(Array.from(convolve(x, h, 6)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 1, 1, -3, 0, 0]);
    expect(convolve(new Float32Array(0), h).length).toBe(0);
    expect(() => convolve(x, h, -1)).toThrow(/non-negative integer, got -1/);
  });
});
