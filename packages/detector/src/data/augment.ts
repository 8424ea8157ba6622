/**
 * Augmentations for 16 kHz clips: additive noise at a target SNR, gain, time shift, speed perturbation and a
 * simple room reverb. Each is a pure function of its inputs (randomness comes in through an `Rng` argument),
 * so a dataset is reproducible from its seed.
 */
import { resample } from '@kws/audio';
import { convolve } from './convolve.ts';
import { activePower, meanPower } from './envelope.ts';
import type { Rng } from './random.ts';

export const SAMPLE_RATE = 16_000;

/** Multiplies by 10^(db/20), in place on a copy. */
export function applyGain(samples: Float32Array, db: number): Float32Array {
  if (!Number.isFinite(db)) throw new RangeError(`gain must be a finite number of dB, got ${db}`);
  const g = 10 ** (db / 20);
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i] * g;
  return out;
}

/**
 * Moves the content by `shift` samples (positive = later), keeping the length: what moves past an end is
 * dropped and the gap is filled with zeros.
 */
export function timeShift(samples: Float32Array, shift: number): Float32Array {
  if (!Number.isInteger(shift))
    throw new RangeError(`time shift must be an integer number of samples, got ${shift}`);
  const n = samples.length;
  const out = new Float32Array(n);
  if (shift >= 0) {
    if (shift < n) out.set(samples.subarray(0, n - shift), shift);
  } else if (-shift < n) {
    out.set(samples.subarray(-shift), 0);
  }
  return out;
}

export const MIN_SPEED = 0.5;
export const MAX_SPEED = 2;
/**
 * Planned speed factors are rounded to hundredths. The resampler builds (and caches 32 of) a filter table per
 * rate pair, and 16000·f for f on a 0.01 grid shares a factor of 160 with 16000: a few exact 100-phase tables
 * instead of a fresh interpolated 1025-phase table for nearly every clip.
 */
const SPEED_STEPS_PER_UNIT = 100;

export function quantizeSpeed(factor: number): number {
  return Math.round(factor * SPEED_STEPS_PER_UNIT) / SPEED_STEPS_PER_UNIT;
}

/**
 * Speed perturbation as in Kaldi: play the clip `factor` times faster, tempo and pitch together, by treating it
 * as if it had been recorded at 16000·factor Hz and resampling that to 16 kHz with the band-limited
 * resampler. The duration scales by 1/factor; a time t in the input lands at t/factor.
 */
export function changeSpeed(samples: Float32Array, factor: number): Float32Array {
  if (!(factor >= MIN_SPEED && factor <= MAX_SPEED)) {
    throw new RangeError(`speed factor must be in [${MIN_SPEED}, ${MAX_SPEED}], got ${factor}`);
  }
  const fromRate = Math.round(SAMPLE_RATE * factor);
  if (fromRate === SAMPLE_RATE) return samples.slice();
  return resample(samples, fromRate, SAMPLE_RATE);
}

export interface MixResult {
  samples: Float32Array;
  /** The factor the noise was scaled by. */
  noiseGain: number;
}

/**
 * Adds `noise` so that the speech-to-noise ratio is `snrDb`: speech power is measured over the clip's active
 * frames (within 40 dB of its loudest 10 ms, see envelope.ts), so padding the clip with silence does not change
 * the SNR; noise power over the noise actually added. Noise shorter than the clip is looped; it is read from
 * `offset` on (wrapping), so one long noise serves many clips.
 */
export function mixAtSnr(signal: Float32Array, noise: Float32Array, snrDb: number, offset = 0): MixResult {
  if (!Number.isFinite(snrDb)) throw new RangeError(`SNR must be a finite number of dB, got ${snrDb}`);
  if (noise.length === 0) throw new RangeError('noise for mixing is empty, expected at least one sample');
  const n = signal.length;
  const segment = new Float32Array(n);
  const start = ((Math.floor(offset) % noise.length) + noise.length) % noise.length;
  for (let i = 0; i < n; i++) segment[i] = noise[(start + i) % noise.length];
  const speech = activePower(signal);
  const noisePower = meanPower(segment);
  const out = new Float32Array(n);
  if (speech === 0 || noisePower === 0) {
    out.set(signal);
    return { samples: out, noiseGain: 0 };
  }
  const noiseGain = Math.sqrt(speech / (noisePower * 10 ** (snrDb / 10)));
  for (let i = 0; i < n; i++) out[i] = signal[i] + noiseGain * segment[i];
  return { samples: out, noiseGain };
}

export interface ReverbParams {
  /** Time for the reverberant tail to fall by 60 dB, seconds (small rooms 0.2–0.4, halls ≥ 1). */
  rt60S: number;
  /** Share of the impulse response's energy in the tail, 0 (dry) to 1 (tail only). */
  wet: number;
}

/** Velvet-noise pulse density; ≥ 1000 pulses/s sounds as smooth as Gaussian noise (Välimäki et al.). */
const VELVET_DENSITY = 1500;
/** ln(1000): amplitude falls by 60 dB when t = rt60. */
const LN_1000 = Math.log(1000);

/**
 * A synthetic room impulse response as sparse taps: the direct path at 0, then a velvet-noise tail (one ±1
 * pulse at a random place in every 1/1500 s slot) under an exponential envelope exp(−ln(1000)·t/rt60), cut at
 * rt60, starting after a 2–10 ms pre-delay. Direct and tail energies split as 1 − wet : wet.
 */
export function roomImpulse(params: ReverbParams, rng: Rng): { at: Int32Array; gain: Float32Array } {
  const { rt60S, wet } = params;
  if (!(rt60S > 0 && rt60S <= 3)) throw new RangeError(`rt60 must be in (0, 3] seconds, got ${rt60S}`);
  if (!(wet >= 0 && wet <= 1)) throw new RangeError(`reverb wet share must be in [0, 1], got ${wet}`);
  const slot = SAMPLE_RATE / VELVET_DENSITY;
  const preDelay = Math.round(rng.uniform(0.002, 0.01) * SAMPLE_RATE);
  const tailLength = Math.round(rt60S * SAMPLE_RATE);
  const slots = Math.floor(tailLength / slot);
  const at = new Int32Array(slots + 1);
  const gain = new Float32Array(slots + 1);
  let tailEnergy = 0;
  for (let s = 0; s < slots; s++) {
    const t = Math.floor(s * slot + rng.next() * slot);
    const g = (rng.chance(0.5) ? 1 : -1) * Math.exp((-LN_1000 * t) / tailLength);
    at[s + 1] = preDelay + t;
    gain[s + 1] = g;
    tailEnergy += g * g;
  }
  const tailScale = tailEnergy > 0 ? Math.sqrt(wet / tailEnergy) : 0;
  for (let s = 1; s <= slots; s++) gain[s] *= tailScale;
  at[0] = 0;
  gain[0] = Math.sqrt(1 - wet);
  return { at, gain };
}

/**
 * Convolves with `roomImpulse(params, rng)` (by FFT, see convolve.ts). The length is kept: the tail past the
 * end is dropped, so callers leave room after the speech (the dataset's clips have ≥ 0.25 s of it).
 */
export function reverb(samples: Float32Array, params: ReverbParams, rng: Rng): Float32Array {
  const { at, gain } = roomImpulse(params, rng);
  const h = new Float32Array(at[at.length - 1] + 1); // taps are in increasing order
  for (let k = 0; k < at.length; k++) h[at[k]] += gain[k];
  return convolve(samples, h, samples.length);
}
