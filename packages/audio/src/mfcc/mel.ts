/**
 * Triangular mel filterbank exactly as TensorFlow's `linear_to_mel_weight_matrix` (DESIGN §1 step 4):
 * HTK mel, num_mel_bins + 2 edges equally spaced in mel, weights computed in mel space, bin 0 weighted 0.
 */
import type { FeatureConfig } from './config.ts';

/** HTK mel scale. TensorFlow writes 1127·ln(1 + f/700); the scale cancels out of the weights. */
export function hertzToMel(hertz: number): number {
  return 2595 * Math.log10(1 + hertz / 700);
}

/** Dense weights, [fft_length / 2 + 1, num_mel_bins] (TensorFlow's layout). */
export function melWeights(config: FeatureConfig): Float64Array {
  const bins = config.fft_length / 2 + 1;
  const mels = config.num_mel_bins;
  const lowMel = hertzToMel(config.lower_edge_hertz);
  const highMel = hertzToMel(config.upper_edge_hertz);
  const edges = Array.from({ length: mels + 2 }, (_, i) => lowMel + ((highMel - lowMel) * i) / (mels + 1));
  const weights = new Float64Array(bins * mels);
  for (let k = 1; k < bins; k++) {
    const mel = hertzToMel((k * config.sample_rate) / config.fft_length);
    for (let m = 0; m < mels; m++) {
      const [lo, center, hi] = [edges[m], edges[m + 1], edges[m + 2]];
      const rising = (mel - lo) / (center - lo);
      const falling = (hi - mel) / (hi - center);
      weights[k * mels + m] = Math.max(0, Math.min(rising, falling));
    }
  }
  return weights;
}

/**
 * The same weights stored sparsely. Adjacent triangles overlap only pairwise, so every bin feeds at most two
 * filters, `first[k]` and `first[k] + 1`; the hot loop then does two multiply-adds per bin instead of
 * num_mel_bins. Bins outside [binStart, binEnd) have no weight at all.
 */
export interface SparseMelWeights {
  binStart: number;
  binEnd: number;
  /** [bins] first filter fed by bin k. */
  first: Int32Array;
  /** [bins] weight of bin k in filter first[k]. */
  w0: Float64Array;
  /** [bins] weight of bin k in filter first[k] + 1 (0 where that is past the last filter). */
  w1: Float64Array;
}

export function sparseMelWeights(config: FeatureConfig): SparseMelWeights {
  const dense = melWeights(config);
  const bins = config.fft_length / 2 + 1;
  const mels = config.num_mel_bins;
  const first = new Int32Array(bins);
  const w0 = new Float64Array(bins);
  const w1 = new Float64Array(bins);
  let binStart = bins;
  let binEnd = 0;
  for (let k = 0; k < bins; k++) {
    const nonzero: number[] = [];
    for (let m = 0; m < mels; m++) if (dense[k * mels + m] !== 0) nonzero.push(m);
    if (nonzero.length === 0) continue;
    if (nonzero.length > 2 || (nonzero.length === 2 && nonzero[1] !== nonzero[0] + 1)) {
      throw new Error(
        `mel bin ${k} feeds filters ${nonzero.join(', ')}; expected at most two adjacent filters`,
      );
    }
    binStart = Math.min(binStart, k);
    binEnd = k + 1;
    first[k] = nonzero[0];
    w0[k] = dense[k * mels + nonzero[0]];
    w1[k] = nonzero.length === 2 ? dense[k * mels + nonzero[1]] : 0;
  }
  if (binEnd === 0) {
    throw new RangeError(
      `no FFT bin falls inside the mel filters between ${config.lower_edge_hertz} and ` +
        `${config.upper_edge_hertz} Hz at fft_length ${config.fft_length}; use a longer FFT or wider edges`,
    );
  }
  return { binStart, binEnd, first, w0, w1 };
}
