/**
 * One training clip: what it says and how it is altered (a plan, drawn from its own seeded stream), and the
 * rendering of that plan from synthesized speech. Planning and rendering are separate so the plan can be
 * written to the manifest and so synthesis (the slow, parallel part) sits between them.
 */
import {
  applyGain,
  changeSpeed,
  mixAtSnr,
  quantizeSpeed,
  type ReverbParams,
  reverb,
  SAMPLE_RATE,
  timeShift,
} from './augment.ts';
import { trimSilence } from './envelope.ts';
import { makeNoise, NOISE_KINDS, type NoiseKind } from './noise.ts';
import { COMMANDS, contextTexts, type NegativeKind, nearMisses, negativeTexts } from './phrases.ts';
import type { Rng } from './random.ts';

export type ClipKind = 'keyword' | NegativeKind;

/** Ranges the planner draws from; espeak-ng's defaults are 175 wpm and pitch 50. */
export const PLAN_RANGES = {
  speedWpm: [130, 210],
  pitch: [25, 75],
  leadS: [0.1, 0.5],
  tailS: [0.25, 0.6],
  /** Pause between the keyword and a following command. */
  gapS: [0.05, 0.3],
  followProbability: 0.3,
  speedFactor: [0.9, 1.1],
  speedProbability: 0.5,
  maxShiftS: 0.1,
  reverbProbability: 0.3,
  rt60S: [0.15, 0.7],
  wet: [0.1, 0.5],
  noiseProbability: 0.8,
  snrDb: [0, 30],
  gainDb: [-12, 6],
  /** Noise-only and silence negatives. */
  noiseClipS: [1, 3],
  noiseLevelDbfs: [-45, -15],
  silenceLevelDbfs: [-80, -60],
  /** Share of speech clips with other speech before the main text (0: never, the standard profile). */
  precedeProbability: 0,
  /** Pause between that speech and the main text. */
  precedeGapS: [0.05, 0.4],
  /** Share of negatives (confusables, words) followed by a command, like a keyword would be. */
  negativeFollowProbability: 0,
} as const;

export type PlanRanges = {
  readonly [K in keyof typeof PLAN_RANGES]: (typeof PLAN_RANGES)[K] extends readonly [number, number]
    ? readonly [number, number]
    : number;
};

/**
 * How a dataset varies its speech. `standard` is the ranges above (the evaluation sets are made with it);
 * `wide` is for base training: a wider span of espeak-ng speeds and pitches and of speed perturbation (which
 * scales formants like another vocal-tract length, the nearest thing to unseen speakers), speech before the
 * keyword and after confusables (as in running speech), and a larger share of confusable negatives with
 * extra near misses of the keyword.
 */
export type DataProfile = 'standard' | 'wide';
export const DATA_PROFILES: readonly DataProfile[] = ['standard', 'wide'];

export const WIDE_RANGES: PlanRanges = {
  ...PLAN_RANGES,
  speedWpm: [110, 250],
  pitch: [5, 95],
  speedFactor: [0.8, 1.25],
  speedProbability: 0.7,
  followProbability: 0.35,
  precedeProbability: 0.35,
  negativeFollowProbability: 0.3,
};

export function planRanges(profile: DataProfile): PlanRanges {
  return profile === 'wide' ? WIDE_RANGES : PLAN_RANGES;
}

/** Peak level clips are scaled down to when gain and noise push them past it, so 16-bit output never clips. */
const PEAK_LIMIT = 0.99;

export interface NoiseParams {
  kind: NoiseKind;
  /** Speech-to-noise ratio, for clips with speech. */
  snrDb?: number;
  /** RMS level in dB re full scale, for noise-only and silence clips. */
  levelDbfs?: number;
}

export interface AugmentationParams {
  /** Speed perturbation factor (> 1 is faster and shorter). */
  speedFactor: number;
  /** Time shift after speed perturbation, seconds (positive is later). */
  shiftS: number;
  /** Gain actually applied, dB, after any peak limiting. */
  gainDb: number;
  reverb: ReverbParams | null;
  noise: NoiseParams | null;
}

export interface ClipPlan {
  label: 0 | 1;
  kind: ClipKind;
  /** What is spoken; empty for silence and noise clips. */
  text: string;
  /** A command spoken after the keyword, or null. */
  followText: string | null;
  /** Speech before the main text (the `wide` profile), or null. */
  precedeText: string | null;
  /** Pause between `precedeText` and the main text, seconds (0 without it). */
  precedeGapS: number;
  voice: string | null;
  speedWpm: number | null;
  pitch: number | null;
  leadS: number;
  gapS: number;
  tailS: number;
  /** Length of a noise or silence clip, seconds (0 for speech, whose length follows from the speech). */
  noiseClipS: number;
  augmentation: AugmentationParams;
}

const pickInt = (rng: Rng, [lo, hi]: readonly [number, number]): number => lo + rng.int(hi - lo + 1);
const pickReal = (rng: Rng, [lo, hi]: readonly [number, number]): number => rng.uniform(lo, hi);

function planAugmentation(rng: Rng, r: PlanRanges): AugmentationParams {
  const speedFactor = rng.chance(r.speedProbability) ? quantizeSpeed(pickReal(rng, r.speedFactor)) : 1;
  // A fraction of the allowed shift; the bound in samples is applied when rendering, where lead and tail are known.
  const shiftS = rng.uniform(-r.maxShiftS, r.maxShiftS);
  const reverbParams = rng.chance(r.reverbProbability)
    ? { rt60S: pickReal(rng, r.rt60S), wet: pickReal(rng, r.wet) }
    : null;
  const noise = rng.chance(r.noiseProbability)
    ? { kind: rng.pick(NOISE_KINDS), snrDb: pickReal(rng, r.snrDb) }
    : null;
  return { speedFactor, shiftS, gainDb: pickReal(rng, r.gainDb), reverb: reverbParams, noise };
}

function planSpeech(
  rng: Rng,
  label: 0 | 1,
  kind: ClipKind,
  text: string,
  voice: string,
  r: PlanRanges,
  keyword: string,
): ClipPlan {
  const followText = label === 1 && rng.chance(r.followProbability) ? rng.pick(COMMANDS) : null;
  const plan: ClipPlan = {
    label,
    kind,
    text,
    followText,
    precedeText: null,
    precedeGapS: 0,
    voice,
    speedWpm: pickInt(rng, r.speedWpm),
    pitch: pickInt(rng, r.pitch),
    leadS: pickReal(rng, r.leadS),
    gapS: followText === null ? 0 : pickReal(rng, r.gapS),
    tailS: pickReal(rng, r.tailS),
    noiseClipS: 0,
    augmentation: planAugmentation(rng, r),
  };
  // Drawn last and only when enabled, so the standard profile's plans stay what they were.
  if (r.precedeProbability > 0 && rng.chance(r.precedeProbability)) {
    plan.precedeText = rng.pick(contextTexts(keyword));
    plan.precedeGapS = pickReal(rng, r.precedeGapS);
  }
  const followable = kind === 'confusable' || kind === 'word';
  if (followable && r.negativeFollowProbability > 0 && rng.chance(r.negativeFollowProbability)) {
    plan.followText = rng.pick(COMMANDS);
    plan.gapS = pickReal(rng, r.gapS);
  }
  return plan;
}

/** A positive: the keyword, sometimes followed by a command (and, in the wide profile, preceded by speech). */
export function planPositive(
  rng: Rng,
  keyword: string,
  voice: string,
  profile: DataProfile = 'standard',
): ClipPlan {
  return planSpeech(rng, 1, 'keyword', keyword, voice, planRanges(profile), keyword);
}

/** A negative of the given kind; silence and noise clips have no voice. */
export function planNegative(
  rng: Rng,
  keyword: string,
  voice: string,
  kind: NegativeKind,
  profile: DataProfile = 'standard',
): ClipPlan {
  const r = planRanges(profile);
  if (kind === 'silence' || kind === 'noise') {
    const noiseKind: NoiseKind = kind === 'silence' ? 'pink' : rng.pick(NOISE_KINDS);
    const levelDbfs = pickReal(rng, kind === 'silence' ? r.silenceLevelDbfs : r.noiseLevelDbfs);
    return {
      label: 0,
      kind,
      text: '',
      followText: null,
      precedeText: null,
      precedeGapS: 0,
      voice: null,
      speedWpm: null,
      pitch: null,
      leadS: 0,
      gapS: 0,
      tailS: 0,
      noiseClipS: pickReal(rng, r.noiseClipS),
      augmentation: {
        speedFactor: 1,
        shiftS: 0,
        gainDb: 0,
        reverb: null,
        noise: { kind: noiseKind, levelDbfs },
      },
    };
  }
  const texts =
    profile === 'wide' && kind === 'confusable'
      ? [...negativeTexts(kind, keyword), ...nearMisses(keyword)]
      : negativeTexts(kind, keyword);
  return planSpeech(rng, 0, kind, rng.pick(texts), voice, r, keyword);
}

/** The texts a plan needs synthesized, in order: main text, then the follow-up, then the preceding speech. */
export function speechRequests(plan: ClipPlan): string[] {
  if (plan.voice === null) return [];
  const texts = [plan.text];
  if (plan.followText !== null) texts.push(plan.followText);
  if (plan.precedeText !== null) texts.push(plan.precedeText);
  return texts;
}

export interface RenderedClip {
  samples: Float32Array;
  /** Seconds from the clip start to the keyword's first/last active 10 ms frame (positives only). */
  keywordStartS: number | null;
  keywordEndS: number | null;
  augmentation: AugmentationParams;
}

const seconds = (samples: number): number => Math.round((samples / SAMPLE_RATE) * 1e4) / 1e4;
const toSamples = (s: number): number => Math.round(s * SAMPLE_RATE);

function limitPeak(samples: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
  if (peak <= PEAK_LIMIT) return 0;
  const g = PEAK_LIMIT / peak;
  for (let i = 0; i < samples.length; i++) samples[i] *= g;
  return 20 * Math.log10(g);
}

function renderNoiseOnly(plan: ClipPlan, rng: Rng, babble: readonly Float32Array[]): RenderedClip {
  const noise = plan.augmentation.noise as NoiseParams;
  const unit = makeNoise(noise.kind, toSamples(plan.noiseClipS), rng, babble);
  const samples = applyGain(unit, noise.levelDbfs ?? 0); // unit RMS → RMS of levelDbfs
  const limitDb = limitPeak(samples);
  return {
    samples,
    keywordStartS: null,
    keywordEndS: null,
    augmentation: { ...plan.augmentation, gainDb: limitDb },
  };
}

/**
 * Renders a plan from its synthesized speech (`speech[i]` for `speechRequests(plan)[i]`, untrimmed, 16 kHz):
 * trim each utterance by its energy envelope, lay out lead silence + speech (+ gap + command) + tail, then
 * speed → shift → reverb → gain → noise → peak limit. The keyword's start and end are the trimmed keyword's
 * edges in the layout, carried through speed (t → t / factor) and shift (t → t + shift): measured from the
 * audio, not estimated from the text.
 */
export function renderClip(
  plan: ClipPlan,
  speech: readonly Float32Array[],
  rng: Rng,
  babble: readonly Float32Array[],
): RenderedClip {
  if (plan.voice === null) return renderNoiseOnly(plan, rng, babble);
  const wanted = speechRequests(plan).length;
  if (speech.length !== wanted)
    throw new RangeError(`clip needs ${wanted} synthesized utterances, got ${speech.length}`);
  const main = trimSilence(speech[0]);
  if (main.length === 0)
    throw new RangeError(`synthesized speech for ${JSON.stringify(plan.text)} is silent`);
  const follow = plan.followText === null ? null : trimSilence(speech[1]);
  const precede = plan.precedeText === null ? null : trimSilence(speech[speech.length - 1]);
  const before = precede === null ? 0 : precede.length + toSamples(plan.precedeGapS);
  const lead = toSamples(plan.leadS);
  const gap = toSamples(plan.gapS);
  const tail = toSamples(plan.tailS);
  const length = lead + before + main.length + (follow === null ? 0 : gap + follow.length) + tail;
  let x: Float32Array = new Float32Array(length);
  if (precede !== null) x.set(precede, lead);
  x.set(main, lead + before);
  if (follow !== null) x.set(follow, lead + before + main.length + gap);

  const aug = plan.augmentation;
  const f = aug.speedFactor;
  if (f !== 1) x = changeSpeed(x, f);
  // Keep the speech inside the clip: shift at most 80 % of the (speed-scaled) lead or tail.
  const maxLater = Math.floor((0.8 * tail) / f);
  const maxEarlier = Math.floor((0.8 * lead) / f);
  const shift = Math.max(-maxEarlier, Math.min(maxLater, toSamples(aug.shiftS)));
  if (shift !== 0) x = timeShift(x, shift);
  if (aug.reverb !== null) x = reverb(x, aug.reverb, rng);
  x = applyGain(x, aug.gainDb);
  if (aug.noise !== null) {
    const noise = makeNoise(aug.noise.kind, x.length, rng, babble);
    x = mixAtSnr(x, noise, aug.noise.snrDb ?? 0).samples;
  }
  const limitDb = limitPeak(x);

  const at = (p: number): number => seconds(Math.min(x.length, Math.max(0, p / f + shift)));
  return {
    samples: x,
    keywordStartS: plan.label === 1 ? at(lead + before) : null,
    keywordEndS: plan.label === 1 ? at(lead + before + main.length) : null,
    augmentation: { ...aug, shiftS: seconds(shift), gainDb: aug.gainDb + limitDb },
  };
}
