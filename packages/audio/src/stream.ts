/**
 * Streaming MFCC: push audio in chunks of any size and get each frame as soon as its last sample arrives.
 * Frames are computed by the batch function's own plan from the same sample values, so the concatenation of
 * everything `push` returns is bit-identical to `mfcc()` of the concatenated audio.
 */
import { type FeatureConfig, resolveFeatureConfig } from './mfcc/config.ts';
import { type MfccResult, planFor } from './mfcc/mfcc.ts';

export interface MfccStream {
  readonly config: Readonly<FeatureConfig>;
  /** Appends samples; returns only the frames completed by them (possibly none). */
  push(chunk: Float32Array): MfccResult;
  /** Forgets buffered samples; the next push starts a new signal at frame 0. */
  reset(): void;
}

export function createMfccStream(config: Partial<FeatureConfig> = {}): MfccStream {
  const resolved = resolveFeatureConfig(config);
  const plan = planFor(resolved);
  const { frame_length: length, frame_step: step, num_mfcc: coeffs } = resolved;
  // Samples not yet consumed: the next frame starts at pending[0].
  let pending = new Float32Array(Math.max(2 * length, 4096));
  let buffered = 0;

  return {
    config: Object.freeze({ ...resolved }),
    push(chunk: Float32Array): MfccResult {
      if (!(chunk instanceof Float32Array)) {
        throw new TypeError(
          `MfccStream.push expects a Float32Array, got ${chunk === null ? 'null' : typeof chunk}`,
        );
      }
      if (buffered + chunk.length > pending.length) {
        const grown = new Float32Array(Math.max(2 * pending.length, buffered + chunk.length));
        grown.set(pending.subarray(0, buffered));
        pending = grown;
      }
      pending.set(chunk, buffered);
      buffered += chunk.length;

      const frames = buffered < length ? 0 : 1 + Math.floor((buffered - length) / step);
      const data = new Float32Array(frames * coeffs);
      if (frames > 0) {
        plan.compute(pending, 0, frames, data, 0);
        const consumed = frames * step;
        pending.copyWithin(0, consumed, buffered);
        buffered -= consumed;
      }
      return { frames, coeffs, data };
    },
    reset(): void {
      buffered = 0;
    },
  };
}
