/**
 * Background noises for augmentation and for "noise" negatives. Each generator returns unit-RMS float32 at
 * 16 kHz, so callers set the level (an SNR or a dBFS) in one place.
 */
import { meanPower } from './envelope.ts';
import type { Rng } from './random.ts';

export type NoiseKind = 'white' | 'pink' | 'babble';

export const NOISE_KINDS: readonly NoiseKind[] = ['white', 'pink', 'babble'];

function normalizeRms(samples: Float32Array): Float32Array {
  const p = meanPower(samples);
  if (p > 0) {
    const g = 1 / Math.sqrt(p);
    for (let i = 0; i < samples.length; i++) samples[i] *= g;
  }
  return samples;
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0) {
    throw new RangeError(`noise length must be a non-negative integer of samples, got ${length}`);
  }
}

/** Gaussian white noise: flat spectrum. */
export function whiteNoise(length: number, rng: Rng): Float32Array {
  checkLength(length);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.normal();
  return normalizeRms(out);
}

/**
 * Pink (1/f) noise: power falls 3 dB per octave. Paul Kellet's refined filter — seven first-order sections
 * whose sum is within ±0.05 dB of 1/f from 9 Hz to the Nyquist frequency at 44.1 kHz, and still within
 * a fraction of a dB across 20 Hz–8 kHz at 16 kHz, which is all the MFCC front end looks at.
 */
export function pinkNoise(length: number, rng: Rng): Float32Array {
  checkLength(length);
  const out = new Float32Array(length);
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let b4 = 0;
  let b5 = 0;
  let b6 = 0;
  // Let the slowest section settle so the clip does not start with a level ramp.
  const warmup = 4096;
  for (let i = -warmup; i < length; i++) {
    const w = rng.normal();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    const y = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
    if (i >= 0) out[i] = y;
  }
  return normalizeRms(out);
}

/**
 * Babble: several talkers at once, each a chain of clips from `speech` (other synthesized speech) with short
 * pauses, starting at a random point, at random relative levels (±6 dB). More talkers sound more like a
 * crowd and less like one competing voice.
 */
export function babbleNoise(
  length: number,
  rng: Rng,
  speech: readonly Float32Array[],
  talkers = 4,
): Float32Array {
  checkLength(length);
  const usable = speech.filter((s) => s.length > 0);
  if (usable.length === 0) throw new RangeError('babble needs at least one non-empty speech clip, got none');
  if (!Number.isInteger(talkers) || talkers < 1) {
    throw new RangeError(`babble talkers must be an integer ≥ 1, got ${talkers}`);
  }
  const out = new Float32Array(length);
  for (let t = 0; t < talkers; t++) {
    const gain = 10 ** (rng.uniform(-6, 6) / 20);
    let pos = -rng.int(16000); // start mid-utterance
    while (pos < length) {
      const clip = rng.pick(usable);
      const clipPower = meanPower(clip);
      const g = clipPower > 0 ? gain / Math.sqrt(clipPower) : 0;
      const from = Math.max(0, -pos);
      const to = Math.min(clip.length, length - pos);
      for (let i = from; i < to; i++) out[pos + i] += g * clip[i];
      pos += clip.length + rng.int(4800); // up to 0.3 s between utterances
    }
  }
  return normalizeRms(out);
}

/** One noise of the given kind; `speech` is needed for babble only. */
export function makeNoise(
  kind: NoiseKind,
  length: number,
  rng: Rng,
  speech: readonly Float32Array[] = [],
): Float32Array {
  switch (kind) {
    case 'white':
      return whiteNoise(length, rng);
    case 'pink':
      return pinkNoise(length, rng);
    case 'babble':
      return babbleNoise(length, rng, speech);
    default:
      throw new RangeError(`noise kind must be one of ${NOISE_KINDS.join(', ')}, got ${String(kind)}`);
  }
}
