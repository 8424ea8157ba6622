/**
 * The one seeded PRNG of the data pipeline. Every random choice in synthesis and augmentation draws from a
 * `Rng` made here, so a dataset is a pure function of its seed: same seed, same bytes.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, 128-bit state, period ≥ 2^32, passes
 * PractRand); seeds are expanded with a 32-bit FNV-1a/xmur3-style string hash, so any string or number works.
 * `derive(seed, ...keys)` gives an independent stream per clip, which keeps results identical whatever order
 * or degree of parallelism the clips are produced in.
 */

export interface Rng {
  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element, uniformly. Throws on an empty array. */
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy (Fisher–Yates). */
  shuffled<T>(items: readonly T[]): T[];
}

/** 32-bit string hash with good avalanche (xmur3 finalizer), used only to expand seeds. */
function hash32(text: string, salt: number): number {
  let h = (1779033703 ^ text.length ^ salt) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A generator seeded from a number or string; `derive` is the way to make per-item streams. */
export function createRng(seed: number | string): Rng {
  const key = String(seed);
  let a = hash32(key, 0x9e3779b9);
  let b = hash32(key, 0x85ebca6b);
  let c = hash32(key, 0xc2b2ae35);
  let d = hash32(key, 0x27d4eb2f);

  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // sfc32 wants a few rounds to mix a weak seed.
  for (let i = 0; i < 12; i++) nextU32();

  let spareNormal: number | null = null;
  const next = (): number => nextU32() / 4294967296;

  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`Rng.int needs an integer n ≥ 1, got ${n}`);
      return Math.floor(next() * n);
    },
    normal: () => {
      if (spareNormal !== null) {
        const z = spareNormal;
        spareNormal = null;
        return z;
      }
      const u = 1 - next(); // (0, 1]: log(0) never happens
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('Rng.pick needs a non-empty array, got 0 items');
      return items[Math.floor(next() * items.length)];
    },
    shuffled: (items) => {
      const out = items.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const tmp = out[i];
        out[i] = out[j];
        out[j] = tmp;
      }
      return out;
    },
  };
}

/** An independent stream for one item, e.g. `derive(seed, 'positive', 17)`. */
export function derive(seed: number | string, ...keys: (number | string)[]): Rng {
  return createRng([seed, ...keys].join('\u241f'));
}
