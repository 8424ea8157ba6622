/** The wasm data-movement and reduction kernels against the pure-TS ones. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../layers/rnn/initializers.ts';
import { tsAdd, tsCopyBlocks, tsSumRows } from './ts-copy.ts';
import { createWasmKernels } from './wasm.ts';

const wasm = createWasmKernels()!;
const random = seededRandom(3);

function pair(n: number): [Float32Array, Float32Array] {
  const a = wasm.allocateFloat32(n);
  for (let i = 0; i < n; i++) a[i] = 2 * random() - 1;
  return [a, Float32Array.from(a)];
}

describe('wasm copyBlocks equals the TS one', () => {
  // [outer, inner, n] × stride patterns: the loop's gather (reversed time), scatter, bias broadcast and
  // Bidirectional's concat halves.
  const cases: {
    name: string;
    outer: number;
    inner: number;
    n: number;
    d: [number, number, number];
    s: [number, number, number];
  }[] = [];
  for (const [T, B, n] of [
    [1, 1, 1],
    [3, 2, 5],
    [150, 1, 32],
    [7, 16, 13],
    [4, 3, 64],
  ]) {
    cases.push({
      name: `gather T${T} B${B} n${n}`,
      outer: T,
      inner: B,
      n,
      d: [0, B * n, n],
      s: [0, n, T * n],
    });
    cases.push({
      name: `reversed gather T${T} B${B} n${n}`,
      outer: T,
      inner: B,
      n,
      d: [0, B * n, n],
      s: [(T - 1) * n, -n, T * n],
    });
    cases.push({
      name: `broadcast ${T * B} rows of ${n}`,
      outer: T * B,
      inner: 1,
      n,
      d: [0, n, 0],
      s: [0, 0, 0],
    });
    cases.push({
      name: `interleave T${T} B${B} n${n}`,
      outer: B,
      inner: T,
      n,
      d: [n, T * 2 * n, 2 * n],
      s: [(T - 1) * n, T * n, -n],
    });
  }
  for (const c of cases) {
    it(c.name, () => {
      const dLen =
        c.d[0] + Math.max(0, (c.outer - 1) * c.d[1]) + Math.max(0, (c.inner - 1) * c.d[2]) + c.n + 3;
      const sLen =
        Math.max(c.s[0] + c.n, (c.outer - 1) * Math.abs(c.s[1]) + (c.inner - 1) * Math.abs(c.s[2]) + c.n) + 2;
      const [dst, dstTs] = pair(dLen);
      const [src] = pair(sLen);
      wasm.copyBlocks(dst, c.d[0], c.d[1], c.d[2], src, c.s[0], c.s[1], c.s[2], c.outer, c.inner, c.n);
      tsCopyBlocks(dstTs, c.d[0], c.d[1], c.d[2], src, c.s[0], c.s[1], c.s[2], c.outer, c.inner, c.n);
      expect(dst).toEqual(dstTs);
    });
  }

  it('refuses blocks beyond the arrays and overlapping regions', () => {
    const [a] = pair(10);
    const [b] = pair(10);
    expect(() => wasm.copyBlocks(a, 0, 4, 0, b, 0, 4, 0, 3, 1, 4)).toThrow(
      'copyBlocks: dst spans elements [0, 12); the array has 10',
    );
    expect(() => wasm.copyBlocks(a, 0, 4, 0, b, 6, -4, 0, 2, 1, 4)).not.toThrow();
    expect(() => wasm.copyBlocks(a, 0, 4, 0, b, 2, -4, 0, 2, 1, 4)).toThrow(
      'copyBlocks: src spans elements [-2, 6); the array has 10',
    );
    expect(() => wasm.copyBlocks(a, 0, 4, 0, a, 3, 4, 0, 1, 1, 4)).toThrow(
      'copyBlocks: the regions dst and src span overlap',
    );
  });
});

describe('wasm sumRows and add equal the TS ones', () => {
  it.each([
    [1, 1],
    [3, 5],
    [2400, 256],
    [17, 33],
    [150, 4],
  ])('sumRows over %i rows of %i', (rows, n) => {
    const [dst, dstTs] = pair(n + 2);
    const [src] = pair(rows * n + 1);
    wasm.sumRows(dst, 1, src, 1, rows, n);
    tsSumRows(dstTs, 1, src, 1, rows, n);
    for (let i = 0; i < dst.length; i++) expect(Math.abs(dst[i] - dstTs[i])).toBeLessThanOrEqual(2e-7 * rows);
    expect(dst[0]).toBe(dstTs[0]);
    expect(dst[n + 1]).toBe(dstTs[n + 1]);
  });

  it.each([1, 3, 4, 7, 4800])('add of %i elements', (n) => {
    const [dst, dstTs] = pair(n + 1);
    const [a] = pair(n + 2);
    const [b] = pair(n + 3);
    wasm.add(dst, 1, a, 2, b, 3, n);
    tsAdd(dstTs, 1, a, 2, b, 3, n);
    expect(dst).toEqual(dstTs);
  });
});
