/**
 * A user's enrollment clips: checked, decoded to 16 kHz mono, the keyword located by its energy, and turned
 * into augmented training material (noise, gain, time shift, speed, reverb — the same augmentations as the
 * synthesized base set, data/augment.ts).
 */
import { AudioFormatError, decodeWav } from '@kws/audio';
import {
  applyGain,
  changeSpeed,
  mixAtSnr,
  quantizeSpeed,
  reverb,
  SAMPLE_RATE,
  timeShift,
} from '../data/augment.ts';
import { framePowers } from '../data/envelope.ts';
import { makeNoise } from '../data/noise.ts';
import type { Rng } from '../data/random.ts';
import type { ClipAudio } from '../train/dataset.ts';

export const MIN_CLIPS = 3;
export const MAX_CLIPS = 10;
/** A clip must hold at least this much audio, and at most MAX_CLIP_S. */
export const MIN_CLIP_S = 0.3;
export const MAX_CLIP_S = 10;

/** An enrollment clip: 16 kHz mono samples, or the bytes of a WAV file. */
export type EnrollmentClip = Float32Array | Uint8Array;

/** Bad personalization input (too few clips, a clip that is not 16 kHz audio, a silent clip …). */
export class PersonalizeInputError extends Error {
  override name = 'PersonalizeInputError';
  constructor(
    message: string,
    /** Index into `clips` of the clip at fault, when one is; a caller that read files can name the file. */
    readonly clipIndex?: number,
  ) {
    super(message);
  }
}

/** Where the keyword is in a clip, in seconds. */
export interface KeywordSpan {
  startS: number;
  endS: number;
}

export interface EnrolledClip {
  /** 16 kHz mono. */
  samples: Float32Array;
  keyword: KeywordSpan;
}

/** Speech is what rises this far above the clip's quiet floor (less in noisy clips) and within 40 dB of its peak. */
const ABOVE_FLOOR_DB = 12;
const BELOW_PEAK_DB = 40;
/** A clip whose loudest 10 ms is less than this above its quiet floor holds no speech we can find. */
const MIN_RANGE_DB = 3;

/**
 * The keyword's span by energy (10 ms frames): frames louder than both the loudest frame − 40 dB and the
 * quiet floor (the 10th-percentile frame) + min(12 dB, a third of the clip's range). The floor term matters
 * for recordings, whose background is not digital silence; the third keeps noisy clips (a few dB of
 * range) usable.
 */
export function locateKeyword(samples: Float32Array): KeywordSpan | null {
  const frame = 160;
  const powers = framePowers(samples, frame);
  if (powers.length === 0) return null;
  const sorted = Float64Array.from(powers).sort();
  const peak = sorted[sorted.length - 1];
  if (!(peak > 0)) return null;
  const floor = sorted[Math.floor(0.1 * (sorted.length - 1))];
  const rangeDb = floor > 0 ? 10 * Math.log10(peak / floor) : Number.POSITIVE_INFINITY;
  if (rangeDb < MIN_RANGE_DB) return null;
  const aboveFloorDb = Math.min(ABOVE_FLOOR_DB, rangeDb / 3);
  const gate = Math.max(peak * 10 ** (-BELOW_PEAK_DB / 10), floor * 10 ** (aboveFloorDb / 10));
  let first = -1;
  let last = -1;
  for (let f = 0; f < powers.length; f++) {
    if (powers[f] >= gate && powers[f] > 0) {
      if (first < 0) first = f;
      last = f;
    }
  }
  if (first < 0) return null;
  return {
    startS: (first * frame) / SAMPLE_RATE,
    endS: Math.min(samples.length, (last + 1) * frame) / SAMPLE_RATE,
  };
}

/** Checks the count and format of the clips and finds the keyword in each. */
export function enrollClips(clips: readonly EnrollmentClip[]): EnrolledClip[] {
  if (!Array.isArray(clips)) {
    throw new PersonalizeInputError(
      `clips must be an array of ${MIN_CLIPS}–${MAX_CLIPS} recordings; received ${typeof clips}`,
    );
  }
  if (clips.length < MIN_CLIPS || clips.length > MAX_CLIPS) {
    throw new PersonalizeInputError(
      `personalization needs ${MIN_CLIPS}–${MAX_CLIPS} clips of the keyword; received ${clips.length}`,
    );
  }
  return clips.map((clip, i) => {
    const name = `clip ${i + 1}`;
    let samples: Float32Array;
    if (clip instanceof Float32Array) {
      samples = clip;
    } else if (clip instanceof Uint8Array) {
      let decoded: ReturnType<typeof decodeWav>;
      try {
        decoded = decodeWav(clip);
      } catch (error) {
        if (error instanceof AudioFormatError)
          throw new PersonalizeInputError(`${name}: ${error.message}`, i);
        throw error;
      }
      if (decoded.sampleRate !== SAMPLE_RATE || decoded.channels !== 1) {
        throw new PersonalizeInputError(
          `${name}: expected 16000 Hz mono audio; received ${decoded.sampleRate} Hz with ${decoded.channels} channel(s)`,
          i,
        );
      }
      samples = decoded.samples;
    } else {
      throw new PersonalizeInputError(
        `${name}: expected 16 kHz samples (Float32Array) or WAV bytes (Uint8Array); received ${Object.prototype.toString.call(clip)}`,
        i,
      );
    }
    const seconds = samples.length / SAMPLE_RATE;
    if (seconds < MIN_CLIP_S || seconds > MAX_CLIP_S) {
      throw new PersonalizeInputError(
        `${name}: expected ${MIN_CLIP_S}–${MAX_CLIP_S} s of audio; received ${seconds.toFixed(2)} s`,
        i,
      );
    }
    for (let k = 0; k < samples.length; k++) {
      if (!Number.isFinite(samples[k])) {
        throw new PersonalizeInputError(`${name}: sample ${k} is ${samples[k]}; expected finite values`, i);
      }
    }
    const keyword = locateKeyword(samples);
    if (keyword === null)
      throw new PersonalizeInputError(`${name}: no speech found (the clip is silent or flat)`, i);
    return { samples, keyword };
  });
}

/** Silence kept before and after the keyword in augmented copies, so shifts and reverb tails have room. */
const PAD_BEFORE_S = 0.6;
const PAD_AFTER_S = 0.5;

/** What `augmentEnrollment` makes of a clip besides the keyword alone. */
export interface AugmentParts {
  /**
   * Keep only this part of the keyword, as shares of its span (default the whole keyword, 0 to 1). Any other
   * part makes the copy a negative: `{ from: 0, to: 0.4 }` is the keyword's beginning ("hey no…"),
   * `{ from: 0.45, to: 1 }` its end without "hey" ("nova"), which "say nova", "the nova" and "nova" share.
   */
  part?: { from: number; to: number };
  /**
   * Speech placed 0.05–0.3 s after the keyword: people say a command right after the wake word, and a model
   * that only ever saw silence there learns to wait for it.
   */
  follower?: Float32Array;
  /** Speech (its first 0.15–0.35 s) ending 0–0.08 s before the keyword part: the "say" of "say nova". */
  leader?: Float32Array;
}

/**
 * One augmented copy: speed 0.9–1.1, gain −6…+6 dB, a shift of the keyword inside ≈ 2 s of context, reverb
 * half the time, and white/pink noise at 5–30 dB SNR (babble needs other speech, which a user job lacks).
 */
export function augmentEnrollment(
  clip: EnrolledClip,
  rng: Rng,
  name: string,
  { part, follower, leader }: AugmentParts = {},
): ClipAudio {
  const span = clip.keyword.endS - clip.keyword.startS;
  const startS = clip.keyword.startS + (part?.from ?? 0) * span;
  const lastS = clip.keyword.startS + (part?.to ?? 1) * span;
  const from = Math.max(0, Math.round((startS - 0.05) * SAMPLE_RATE));
  let speech: Float32Array = clip.samples.slice(
    from,
    Math.round(Math.min(clip.samples.length / SAMPLE_RATE, lastS + 0.05) * SAMPLE_RATE),
  );
  const speed = quantizeSpeed(rng.uniform(0.9, 1.1));
  speech = changeSpeed(speech, speed);
  const lead = Math.round(rng.uniform(0.1, PAD_BEFORE_S) * SAMPLE_RATE);
  const gap = Math.round(rng.uniform(0.05, 0.3) * SAMPLE_RATE);
  const tail = follower === undefined ? 0 : gap + follower.length;
  const total = lead + speech.length + tail + Math.round(PAD_AFTER_S * SAMPLE_RATE);
  let audio: Float32Array = new Float32Array(total);
  audio.set(speech, lead);
  if (leader !== undefined) {
    const length = Math.min(lead, Math.round(rng.uniform(0.15, 0.35) * SAMPLE_RATE), leader.length);
    const gapBefore = Math.round(rng.uniform(0, 0.08) * SAMPLE_RATE);
    audio.set(leader.subarray(0, length), Math.max(0, lead - gapBefore - length));
  }
  if (follower !== undefined) audio.set(follower, lead + speech.length + gap);
  // A small shift after placement keeps the position continuous rather than tied to the lead choice.
  const shift = Math.round(rng.uniform(-0.05, 0.05) * SAMPLE_RATE);
  audio = timeShift(audio, shift);
  if (rng.chance(0.5))
    audio = reverb(audio, { rt60S: rng.uniform(0.15, 0.6), wet: rng.uniform(0.1, 0.4) }, rng);
  audio = applyGain(audio, rng.uniform(-6, 6));
  const noise = makeNoise(rng.chance(0.5) ? 'white' : 'pink', audio.length, rng);
  audio = mixAtSnr(audio, noise, rng.uniform(5, 30)).samples;
  const keywordStartS = (lead + shift) / SAMPLE_RATE + (startS - from / SAMPLE_RATE) / speed;
  const keywordEndS = keywordStartS + (lastS - startS) / speed;
  if (part !== undefined && (part.from > 0 || part.to < 1)) return { file: name, label: 0, samples: audio };
  return {
    file: name,
    label: 1,
    samples: audio,
    keywordStartS: Math.max(0, keywordStartS),
    keywordEndS: Math.min(audio.length / SAMPLE_RATE, keywordEndS),
  };
}

/**
 * Speech that is not the keyword, from the user's own clip: its keyword played backwards (the same voice,
 * level and spectrum, none of the keyword's sequence).
 */
export function reversedSpeech(clip: EnrolledClip): Float32Array {
  const from = Math.round(clip.keyword.startS * SAMPLE_RATE);
  const to = Math.round(clip.keyword.endS * SAMPLE_RATE);
  return clip.samples.slice(from, to).reverse();
}
