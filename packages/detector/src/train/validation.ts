/**
 * Validation during training: one fixed window per held-back clip (placed by the seed, so every evaluation
 * sees the same windows), run in inference mode. Frame metrics say how well the posteriors fit the targets;
 * window metrics say what detection would do with them: a window "fires" when its smoothed posterior reaches
 * 0.5 anywhere.
 */
import type { Loss, Sequential, Tensor } from '@kws/nn';
import { derive } from '../data/random.ts';
import { argMax, smoothPosteriors } from '../detect/posteriors.ts';
import type { FeatureClip } from './dataset.ts';
import { fillWindow, sampleWindowStart, type WindowGeometry } from './windows.ts';

export interface ValidationMetrics {
  /** The training loss (weighted BCE) over the validation windows. */
  loss: number;
  /** Share of weighted frames whose posterior is on the right side of 0.5. */
  frameAccuracy: number;
  /** Share of positive windows that do not fire (smoothed posterior < 0.5 everywhere). */
  windowFrr: number;
  /** Share of negative windows that fire. */
  windowFar: number;
  /**
   * Probability that a positive window's score (its largest smoothed posterior) exceeds a negative window's,
   * ties counting half: 1 separates them perfectly at some threshold, 0.5 is chance.
   */
  windowAuc: number;
  positives: number;
  negatives: number;
}

/** Windows evaluated per forward pass. */
const VALIDATION_BATCH = 16;

/** Frames with weight > 0 whose prediction (≥ 0.5) matches the target (> 0.5): [correct, counted]. */
export function countCorrectFrames(
  predictions: Float32Array,
  targets: Float32Array,
  weights: Float32Array,
  n: number,
): [number, number] {
  let correct = 0;
  let counted = 0;
  for (let i = 0; i < n; i++) {
    if (weights[i] <= 0) continue;
    counted++;
    if (predictions[i] >= 0.5 === targets[i] > 0.5) correct++;
  }
  return [correct, counted];
}

export class ValidationSet {
  readonly size: number;
  private readonly starts: number[];

  constructor(
    private readonly clips: readonly FeatureClip[],
    private readonly geometry: WindowGeometry,
    private readonly silence: Float32Array,
    seed: number | string,
  ) {
    this.size = clips.length;
    this.starts = clips.map((clip, i) => sampleWindowStart(clip, geometry, derive(seed, 'validation', i)));
  }

  evaluate(network: Sequential, loss: Loss, smoothingFrames: number): ValidationMetrics {
    const g = this.geometry;
    const inSize = g.inputFrames * g.numMfcc;
    const smoothed = new Float32Array(g.outputFrames);
    let lossSum = 0;
    let correct = 0;
    let counted = 0;
    let missed = 0;
    let falseFires = 0;
    let positives = 0;
    const scores: [number, 0 | 1][] = [];
    for (let from = 0; from < this.clips.length; from += VALIDATION_BATCH) {
      const batch = Math.min(VALIDATION_BATCH, this.clips.length - from);
      const x = new Float32Array(batch * inSize);
      const t = new Float32Array(batch * g.outputFrames);
      const w = new Float32Array(batch * g.outputFrames);
      for (let b = 0; b < batch; b++) {
        const clip = this.clips[from + b];
        fillWindow(g, clip, this.starts[from + b], this.silence, x, b * inSize, t, w, b * g.outputFrames);
      }
      const y = network.forward({ shape: [batch, g.inputFrames, g.numMfcc], data: x });
      const yTrue: Tensor = { shape: [batch, g.outputFrames, 1], data: t };
      lossSum += batch * loss.value(yTrue, y, { shape: [batch, g.outputFrames], data: w });
      const [c, n] = countCorrectFrames(y.data as Float32Array, t, w, t.length);
      correct += c;
      counted += n;
      for (let b = 0; b < batch; b++) {
        smoothPosteriors(
          smoothed,
          y.data as Float32Array,
          b * g.outputFrames,
          g.outputFrames,
          smoothingFrames,
        );
        const score = smoothed[argMax(smoothed, g.outputFrames)];
        const fires = score >= 0.5;
        scores.push([score, this.clips[from + b].label]);
        if (this.clips[from + b].label === 1) {
          positives++;
          if (!fires) missed++;
        } else if (fires) falseFires++;
      }
    }
    const negatives = this.clips.length - positives;
    return {
      loss: lossSum / this.clips.length,
      frameAccuracy: counted === 0 ? 0 : correct / counted,
      windowFrr: positives === 0 ? 0 : missed / positives,
      windowFar: negatives === 0 ? 0 : falseFires / negatives,
      windowAuc: rocAuc(scores),
      positives,
      negatives,
    };
  }
}

/** Area under the ROC curve of scored, labelled items (Mann–Whitney U with mid-ranks); 0.5 without both labels. */
export function rocAuc(items: readonly (readonly [number, 0 | 1])[]): number {
  const sorted = [...items].sort((a, b) => a[0] - b[0]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j][0] === sorted[i][0]) j++;
    const midRank = (i + 1 + j) / 2; // ranks i+1 … j share their mean
    for (let k = i; k < j; k++) {
      if (sorted[k][1] === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j;
  }
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return 0.5;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
