/**
 * Posterior smoothing (Chen, Parada & Heigold 2014, "Small-footprint keyword spotting using deep neural
 * networks"): each frame's posterior becomes the mean over `window` consecutive frames centred on it, so a
 * single spiky frame does not fire a detection. Centred rather than trailing, so the peak stays where the
 * model put it; at the edges the mean is over the frames that exist.
 */

/** out[i] = mean of p[offset + k] for k in [i − ⌊(window−1)/2⌋, i + ⌈(window−1)/2⌉] ∩ [0, n). */
export function smoothPosteriors(
  out: Float32Array,
  p: Float32Array,
  offset: number,
  n: number,
  window: number,
): void {
  if (!Number.isInteger(window) || window < 1) {
    throw new RangeError(`smoothing window must be an integer ≥ 1 frames, got ${window}`);
  }
  if (out.length < n) throw new RangeError(`smoothing output holds ${out.length} frames, needs ${n}`);
  const before = Math.floor((window - 1) / 2);
  const after = window - 1 - before;
  // Running sum over the frames in the window; float64 so the sum does not drift.
  let sum = 0;
  let lo = 0;
  let hi = -1;
  for (let i = 0; i < n; i++) {
    const from = Math.max(0, i - before);
    const to = Math.min(n - 1, i + after);
    while (hi < to) sum += p[offset + ++hi];
    while (lo < from) sum -= p[offset + lo++];
    out[i] = sum / (to - from + 1);
  }
}

/** Index of the largest value of a[0, n) (the first one on ties). */
export function argMax(a: Float32Array, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[i] > a[best]) best = i;
  return best;
}
