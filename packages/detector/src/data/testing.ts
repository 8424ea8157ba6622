/** Signal helpers shared by this folder's tests (not exported from the package). */

export const RATE = 16_000;

/** A sine of `freq` Hz and peak `amplitude`, `length` samples, starting at phase 0. */
export function tone(freq: number, length: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / RATE);
  return out;
}

/** Power at `freq` Hz averaged over Hann-windowed segments (Goertzel per segment), for spectral-shape checks. */
export function bandPower(samples: Float32Array, freq: number, segment = 2048): number {
  const count = Math.floor(samples.length / segment);
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / RATE);
  let total = 0;
  for (let s = 0; s < count; s++) {
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < segment; i++) {
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / segment);
      const s0 = samples[s * segment + i] * w + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    total += s1 * s1 + s2 * s2 - coeff * s1 * s2;
  }
  return total / count;
}

/** Power in dB (10·log10 of the mean square) of samples [from, to). */
export function powerDb(samples: Float32Array, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i] * samples[i];
  return 10 * Math.log10(sum / (to - from));
}
