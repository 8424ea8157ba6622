/**
 * Training windows: where a window sits in a clip, its MFCC input, and its per-frame targets.
 *
 * Targets mark the end region of the keyword: output frames whose centre lies within
 * [end − TARGET_BEFORE_S, end + TARGET_AFTER_S] of the keyword's measured end are 1, all others 0. Frames
 * within TARGET_MARGIN_S of either edge of that region get weight 0 ("don't care"): where exactly the
 * keyword ends is only known to ~10 ms (the data side marks the last active 10 ms frame), and penalizing the
 * model for the edge frames teaches it nothing.
 *
 * A positive's window always holds the whole keyword (from TARGET_CONTEXT_S before its start to the end of
 * the target region); a negative's window is anywhere in the clip. Clips shorter than the window are padded
 * with the MFCC frame of digital silence, as streaming detection pads files shorter than one window.
 */
import { type FeatureConfig, mfcc } from '@kws/audio';
import type { Sequential } from '@kws/nn';
import type { Rng } from '../data/random.ts';
import { type NetworkGeometry, networkGeometry } from '../model/model-file.ts';
import type { FeatureClip } from './dataset.ts';

/** Seconds of the keyword's end region before its last active frame that are marked positive. */
export const TARGET_BEFORE_S = 0.1;
/** Seconds after the keyword's last active frame that are marked positive. */
export const TARGET_AFTER_S = 0.2;
/** Frames this close to an edge of the target region carry weight 0. */
export const TARGET_MARGIN_S = 0.03;
/** A positive's window starts at least this long before the keyword. */
export const TARGET_CONTEXT_S = 0.05;

/** The frame arithmetic of one window: the network's shapes and the features' framing. */
export interface WindowGeometry extends NetworkGeometry {
  featureConfig: FeatureConfig;
}

export function windowGeometry(network: Sequential, featureConfig: FeatureConfig): WindowGeometry {
  return { ...networkGeometry(network), featureConfig };
}

/** Seconds from the start of the audio to the centre of MFCC frame `f` (fractional frames allowed). */
export function inputFrameCenterS(g: WindowGeometry, f: number): number {
  const c = g.featureConfig;
  return (f * c.frame_step + c.frame_length / 2) / c.sample_rate;
}

/**
 * The MFCC frame (fractional) at the centre of output frame `j`: output frames divide the window's input
 * frames evenly (a stride-s convolution with 'same' padding gives ⌈T / s⌉ outputs).
 */
export function outputFrameInputIndex(g: WindowGeometry, j: number): number {
  const ratio = g.inputFrames / g.outputFrames;
  return (j + 0.5) * ratio - 0.5;
}

/** The MFCC frame of an all-zero frame (what padding looks like to the model). */
export function silenceFrame(featureConfig: FeatureConfig): Float32Array {
  return mfcc(new Float32Array(featureConfig.frame_length), featureConfig).data;
}

/** Integer range [lo, hi] of window starts (in clip frames; negative means padding first). */
function startRange(clip: FeatureClip, g: WindowGeometry): [number, number] {
  const slack = clip.frames - g.inputFrames;
  return [Math.min(0, slack), Math.max(0, slack)];
}

/**
 * A window start (in clip frames) drawn uniformly among those that fit; for positives among those that
 * hold the keyword with TARGET_CONTEXT_S before it and the whole target region after it. A keyword too long
 * for that (never with ≈ 1.5 s windows) gets the window that ends right after its target region.
 */
export function sampleWindowStart(clip: FeatureClip, g: WindowGeometry, rng: Rng): number {
  let [lo, hi] = startRange(clip, g);
  if (clip.label === 1 && clip.keywordStartS !== null && clip.keywordEndS !== null) {
    const c = g.featureConfig;
    const framesOf = (s: number) => (s * c.sample_rate) / c.frame_step;
    // The window's first sample must come before start − context; its last frame's end after the region.
    const latest = Math.floor(framesOf(clip.keywordStartS - TARGET_CONTEXT_S));
    const lastFrameEnd = framesOf(clip.keywordEndS + TARGET_AFTER_S) - c.frame_length / c.frame_step;
    const earliest = Math.ceil(lastFrameEnd) - (g.inputFrames - 1);
    const fitLo = Math.max(lo, earliest);
    const fitHi = Math.min(hi, latest);
    if (fitLo <= fitHi) [lo, hi] = [fitLo, fitHi];
    else [lo, hi] = [Math.min(Math.max(earliest, lo), hi), Math.min(Math.max(earliest, lo), hi)];
  }
  return lo + rng.int(hi - lo + 1);
}

/**
 * Writes one window: `x[xOffset ...]` gets [inputFrames, numMfcc] features starting at clip frame `start`
 * (silence where the window leaves the clip); `targets` and `weights` get [outputFrames] values from
 * `tOffset`.
 */
export function fillWindow(
  g: WindowGeometry,
  clip: FeatureClip,
  start: number,
  silence: Float32Array,
  x: Float32Array,
  xOffset: number,
  targets: Float32Array,
  weights: Float32Array,
  tOffset: number,
): void {
  const n = g.numMfcc;
  for (let f = 0; f < g.inputFrames; f++) {
    const src = start + f;
    const dst = xOffset + f * n;
    if (src >= 0 && src < clip.frames) x.set(clip.features.subarray(src * n, src * n + n), dst);
    else x.set(silence, dst);
  }
  writeTargets(g, clip, start, targets, weights, tOffset);
}

/** Targets and weights of the window starting at clip frame `start` (see the module comment). */
export function writeTargets(
  g: WindowGeometry,
  clip: FeatureClip,
  start: number,
  targets: Float32Array,
  weights: Float32Array,
  tOffset: number,
): void {
  const end = clip.label === 1 ? clip.keywordEndS : null;
  for (let j = 0; j < g.outputFrames; j++) {
    let target = 0;
    let weight = 1;
    if (end !== null) {
      const t = inputFrameCenterS(g, start + outputFrameInputIndex(g, j));
      const from = end - TARGET_BEFORE_S;
      const to = end + TARGET_AFTER_S;
      target = t >= from && t <= to ? 1 : 0;
      if (Math.abs(t - from) < TARGET_MARGIN_S || Math.abs(t - to) < TARGET_MARGIN_S) weight = 0;
    }
    targets[tOffset + j] = target;
    weights[tOffset + j] = weight;
  }
}
