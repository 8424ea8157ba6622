/** What extracting MFCC frames for one configuration looks like, whichever implementation does it. */
import type { FeatureConfig } from './config.ts';

export interface MfccPlan {
  readonly config: FeatureConfig;
  /**
   * Writes `frames` rows of MFCCs into `out` from row `outRow` on; frame f starts at sample
   * `start + f · frame_step` of `samples`, which must hold all of it.
   */
  compute(samples: Float32Array, start: number, frames: number, out: Float32Array, outRow: number): void;
}

export function checkComputeArgs(
  config: FeatureConfig,
  samples: Float32Array,
  start: number,
  frames: number,
  out: Float32Array,
  outRow: number,
): void {
  const { frame_length: length, frame_step: step, num_mfcc: coeffs } = config;
  if (!Number.isInteger(frames) || frames < 0) {
    throw new RangeError(`MfccPlan.compute: frame count must be an integer ≥ 0, got ${frames}`);
  }
  if (frames === 0) return;
  const needed = start + (frames - 1) * step + length;
  if (!Number.isInteger(start) || start < 0 || needed > samples.length) {
    throw new RangeError(
      `MfccPlan.compute: ${frames} frames from sample ${start} need ${needed} samples, got ${samples.length}`,
    );
  }
  if (!Number.isInteger(outRow) || outRow < 0 || (outRow + frames) * coeffs > out.length) {
    throw new RangeError(
      `MfccPlan.compute: output holds ${Math.floor(out.length / coeffs)} rows, needs ${outRow + frames}`,
    );
  }
}
