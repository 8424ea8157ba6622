/**
 * Detection error trade-off: false-reject rate on positives against false accepts per hour on non-keyword
 * audio, over thresholds. One detector pass per file gives everything: a positive is detected at threshold t
 * exactly when its best window score reaches t, and the false accepts of a negative stream at t follow from
 * its window scores by replaying the detector's refractory merging (detect/detector.ts) at t.
 */
import type { WindowScore } from '../detect/detector.ts';

export interface DetPoint {
  threshold: number;
  /** Share of positives whose best window score is below the threshold, in [0, 1]. */
  frr: number;
  /** Detections per hour of negative audio at the threshold. */
  fa_per_hour: number;
}

/** Thresholds 0.01, 0.02, …, 0.99: the grid DET curves and threshold choices use. */
export const THRESHOLD_GRID: readonly number[] = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);

/** Share of `scores` below `threshold` (0 for no scores). */
export function falseRejectRate(scores: readonly number[], threshold: number): number {
  if (scores.length === 0) return 0;
  let missed = 0;
  for (const s of scores) if (s < threshold) missed++;
  return missed / scores.length;
}

/**
 * How many detections a stream's windows (in time order) make at `threshold`: the detector opens a
 * detection at a window reaching the threshold, lets later windows whose peak lies within `refractoryS` of
 * the detection's peak join it (moving the peak when they score higher), and closes it once a window starts
 * past that span.
 */
export function countDetections(
  windows: readonly WindowScore[],
  threshold: number,
  refractoryS: number,
): number {
  let count = 0;
  let openPeakS = Number.NaN;
  let openScore = 0;
  let open = false;
  for (const w of windows) {
    if (open && w.startS > openPeakS + refractoryS) open = false;
    if (w.score < threshold) continue;
    if (open && w.peakS <= openPeakS + refractoryS) {
      if (w.score > openScore) {
        openScore = w.score;
        openPeakS = w.peakS;
      }
      continue;
    }
    count++;
    open = true;
    openScore = w.score;
    openPeakS = w.peakS;
  }
  return count;
}

export interface NegativeStream {
  windows: readonly WindowScore[];
  durationS: number;
}

/** False accepts per hour over several streams at `threshold` (0 for no audio). */
export function falseAcceptsPerHour(
  streams: readonly NegativeStream[],
  threshold: number,
  refractoryS: number,
): number {
  let detections = 0;
  let seconds = 0;
  for (const s of streams) {
    detections += countDetections(s.windows, threshold, refractoryS);
    seconds += s.durationS;
  }
  return seconds === 0 ? 0 : (3600 * detections) / seconds;
}

/** The DET curve on `thresholds` (default THRESHOLD_GRID). */
export function detCurve(
  positiveScores: readonly number[],
  negatives: readonly NegativeStream[],
  refractoryS: number,
  thresholds: readonly number[] = THRESHOLD_GRID,
): DetPoint[] {
  return thresholds.map((threshold) => ({
    threshold,
    frr: falseRejectRate(positiveScores, threshold),
    fa_per_hour: falseAcceptsPerHour(negatives, threshold, refractoryS),
  }));
}

/**
 * The operating point for a false-accept budget: the lowest threshold of the curve whose FA/h is at most
 * `maxFaPerHour` (lowest, because FRR only grows with the threshold), or null when none is.
 */
export function pointAtFaBudget(curve: readonly DetPoint[], maxFaPerHour: number): DetPoint | null {
  const ok = curve.filter((p) => p.fa_per_hour <= maxFaPerHour);
  if (ok.length === 0) return null;
  return ok.reduce((a, b) => (b.threshold < a.threshold ? b : a));
}

/**
 * The threshold to store for a false-accept target: the lowest grid threshold of the curve with at most
 * `maxFaPerHour`, or, when none reaches it, the lowest threshold among those with the fewest false accepts.
 */
export function calibratedPoint(curve: readonly DetPoint[], maxFaPerHour: number): DetPoint {
  if (curve.length === 0) throw new RangeError('cannot calibrate on an empty DET curve');
  const within = pointAtFaBudget(curve, maxFaPerHour);
  if (within !== null) return within;
  const fewest = Math.min(...curve.map((p) => p.fa_per_hour));
  return pointAtFaBudget(curve, fewest) as DetPoint;
}
