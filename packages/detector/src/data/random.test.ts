import { describe, expect, it } from 'vitest';
import { createRng, derive } from './random.ts';

const draw = (seed: number | string, n: number): number[] => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => rng.next());
};

describe('seeded PRNG', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    expect(draw(42, 100)).toEqual(draw(42, 100));
    expect(draw('42', 5)).toEqual(draw(42, 5)); // seeds are keyed by their string form
    const other = draw(43, 100);
    expect(other.filter((x, i) => x === draw(42, 100)[i]).length).toBe(0);
  });

  it('gives independent streams per derived key', () => {
    const a = derive(7, 'clip', 1).next();
    const b = derive(7, 'clip', 2).next();
    const c = derive(7, 'clip', 1).next();
    expect(a).toBe(c);
    expect(a).not.toBe(b);
    // 'clip',12 and 'clip1',2 must not collide
    expect(derive(7, 'clip', 12).next()).not.toBe(derive(7, 'clip1', 2).next());
  });

  it('draws uniform and normal values with the right moments', () => {
    const rng = createRng('moments');
    const n = 50_000;
    let sum = 0;
    let sumSq = 0;
    let nSum = 0;
    let nSumSq = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      sum += u;
      sumSq += u * u;
      const z = rng.normal();
      nSum += z;
      nSumSq += z * z;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sumSq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
    expect(nSum / n).toBeCloseTo(0, 1);
    expect(nSumSq / n).toBeCloseTo(1, 1);
  });

  it('covers every integer of int(n) and shuffles without losing items', () => {
    const rng = createRng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(rng.int(7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const items = Array.from({ length: 20 }, (_, i) => i);
    const shuffled = rng.shuffled(items);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
    expect(() => rng.int(0)).toThrow(/integer n ≥ 1, got 0/);
    expect(() => rng.pick([])).toThrow(/non-empty/);
  });
});
