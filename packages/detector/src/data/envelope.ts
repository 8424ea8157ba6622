/**
 * Short-time energy envelope of a clip, and what the data pipeline reads from it: where speech starts and
 * ends (to trim synthesized speech and to mark the keyword's end) and the power of the active part (to set
 * a speech-to-noise ratio that does not depend on how much silence pads the clip).
 */

/** 10 ms frames at 16 kHz, the same hop as the MFCC front end, so marks land on feature-frame boundaries. */
export const ENVELOPE_FRAME = 160;

/**
 * A frame counts as active when its energy is within this many dB of the loudest frame. espeak-ng renders
 * silence as exact zeros and its quietest phones sit about 30 dB under the peak, so 40 dB keeps whole
 * words (the final vowel's decay included) and still ignores resampler ringing.
 */
export const ACTIVE_RANGE_DB = 40;

export interface ActiveRegion {
  /** First sample of the first active frame. */
  start: number;
  /** One past the last sample of the last active frame (exclusive end). */
  end: number;
}

/** Mean power of each whole frame; a trailing partial frame is counted as its own frame. */
export function framePowers(samples: Float32Array, frame: number = ENVELOPE_FRAME): Float64Array {
  const count = Math.ceil(samples.length / frame);
  const out = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    const lo = f * frame;
    const hi = Math.min(samples.length, lo + frame);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += samples[i] * samples[i];
    out[f] = sum / (hi - lo);
  }
  return out;
}

/**
 * The span from the first to the last active frame, or null when the clip is all silence. Frame-accurate
 * (10 ms): that is the resolution of the per-frame training targets that use it.
 */
export function activeRegion(
  samples: Float32Array,
  rangeDb: number = ACTIVE_RANGE_DB,
  frame: number = ENVELOPE_FRAME,
): ActiveRegion | null {
  const powers = framePowers(samples, frame);
  let peak = 0;
  for (const p of powers) if (p > peak) peak = p;
  if (peak === 0) return null;
  const floor = peak * 10 ** (-rangeDb / 10);
  let first = -1;
  let last = -1;
  for (let f = 0; f < powers.length; f++) {
    if (powers[f] >= floor) {
      if (first < 0) first = f;
      last = f;
    }
  }
  return { start: first * frame, end: Math.min(samples.length, (last + 1) * frame) };
}

/** The active part of a clip (a copy); an all-silent clip gives an empty array. */
export function trimSilence(samples: Float32Array, rangeDb: number = ACTIVE_RANGE_DB): Float32Array {
  const region = activeRegion(samples, rangeDb);
  return region ? samples.slice(region.start, region.end) : new Float32Array(0);
}

/** Mean power over the frames within `rangeDb` of the loudest (the speech), 0 for a silent clip. */
export function activePower(samples: Float32Array, rangeDb: number = ACTIVE_RANGE_DB): number {
  const powers = framePowers(samples);
  let peak = 0;
  for (const p of powers) if (p > peak) peak = p;
  if (peak === 0) return 0;
  const floor = peak * 10 ** (-rangeDb / 10);
  let sum = 0;
  let n = 0;
  for (const p of powers) {
    if (p >= floor) {
      sum += p;
      n++;
    }
  }
  return sum / n;
}

/** Mean power of a whole buffer. */
export function meanPower(samples: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
  return samples.length === 0 ? 0 : sum / samples.length;
}
