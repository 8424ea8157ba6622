/**
 * Linear convolution by FFT, for room reverb: a 0.5 s impulse response over a 2 s clip is 8000 × 32000 = 256 M
 * multiply-adds directly (30 M even with a sparse velvet-noise response), but three 64 Ki-point transforms
 * by FFT. The audio package's FFT is forward-only and real-to-complex, so this file keeps a small
 * complex radix-2 transform of its own, used for nothing else.
 */

interface Twiddles {
  cos: Float64Array;
  sin: Float64Array;
  /** Bit-reversal permutation. */
  rev: Uint32Array;
}

const twiddleCache = new Map<number, Twiddles>();

function twiddlesFor(n: number): Twiddles {
  let t = twiddleCache.get(n);
  if (t === undefined) {
    const cos = new Float64Array(n / 2);
    const sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      cos[k] = Math.cos((2 * Math.PI * k) / n);
      sin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
    const bits = Math.log2(n);
    const rev = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      rev[i] = r;
    }
    t = { cos, sin, rev };
    if (twiddleCache.size >= 8) twiddleCache.delete(twiddleCache.keys().next().value as number);
    twiddleCache.set(n, t);
  }
  return t;
}

/** In-place iterative radix-2 FFT of (re, im), length a power of two; `inverse` conjugates (no 1/N scaling). */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  const { cos, sin, rev } = twiddlesFor(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let tmp = re[i];
      re[i] = re[j];
      re[j] = tmp;
      tmp = im[i];
      im[i] = im[j];
      im[j] = tmp;
    }
  }
  const sign = inverse ? -1 : 1;
  for (let size = 2; size <= n; size *= 2) {
    const half = size / 2;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        const a = start + k;
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/**
 * The first `outLength` samples of the linear convolution x ∗ h (default: all x.length + h.length − 1).
 * Both real inputs ride in one complex transform (x as real part, h as imaginary part) and are separated by
 * conjugate symmetry: X[k] = (Z[k] + Z*[N−k]) / 2, H[k] = (Z[k] − Z*[N−k]) / 2i.
 */
export function convolve(
  x: Float32Array,
  h: Float32Array,
  outLength: number = x.length === 0 || h.length === 0 ? 0 : x.length + h.length - 1,
): Float32Array {
  if (!Number.isInteger(outLength) || outLength < 0) {
    throw new RangeError(`convolution output length must be a non-negative integer, got ${outLength}`);
  }
  const out = new Float32Array(outLength);
  if (x.length === 0 || h.length === 0 || outLength === 0) return out;
  const full = x.length + h.length - 1;
  let n = 1;
  while (n < full) n *= 2;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < x.length; i++) re[i] = x[i];
  for (let i = 0; i < h.length; i++) im[i] = h[i];
  fft(re, im, false);
  // Y[k] = X[k]·H[k], built for all k from Z[k] and Z[N−k] (k and N−k share their work).
  const yr = new Float64Array(n);
  const yi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const m = (n - k) & (n - 1);
    const ar = re[k];
    const ai = im[k];
    const br = re[m];
    const bi = -im[m]; // conj(Z[N−k])
    const xr = (ar + br) / 2;
    const xi = (ai + bi) / 2;
    // (a − b) / 2i = (ai − bi)/2 − i·(ar − br)/2
    const hr = (ai - bi) / 2;
    const hi = -(ar - br) / 2;
    yr[k] = xr * hr - xi * hi;
    yi[k] = xr * hi + xi * hr;
  }
  fft(yr, yi, true);
  const count = Math.min(outLength, full);
  for (let i = 0; i < count; i++) out[i] = yr[i] / n;
  return out;
}
