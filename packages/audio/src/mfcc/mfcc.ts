/** Batch MFCC extraction (DESIGN §1). */
import { configKey, type FeatureConfig, frameCount, resolveFeatureConfig } from './config.ts';
import type { MfccPlan } from './plan.ts';
import { WasmMfccPlan } from './wasm-plan.ts';

export interface MfccResult {
  frames: number;
  coeffs: number;
  /** [frames, coeffs], row-major. */
  data: Float32Array<ArrayBuffer>;
}

/**
 * One plan per distinct configuration, kept for the life of the process: streams hold on to theirs, and a
 * plan is small (tables plus ~170 KB of wasm buffers). Real programs use one or two configurations.
 */
const plans = new Map<string, MfccPlan>();

/** The shared plan for a resolved config (tables are built once per configuration). */
export function planFor(config: FeatureConfig): MfccPlan {
  const key = configKey(config);
  let plan = plans.get(key);
  if (!plan) {
    plan = new WasmMfccPlan(config);
    plans.set(key, plan);
  }
  return plan;
}

/**
 * MFCCs of mono float32 samples at `config.sample_rate` (16 kHz by default): one row per full frame, no
 * padding, so fewer than frame_length samples give 0 frames. Samples are used as they are (no clipping,
 * pre-emphasis, dither or normalization).
 */
export function mfcc(samples16k: Float32Array, config: Partial<FeatureConfig> = {}): MfccResult {
  if (!(samples16k instanceof Float32Array)) {
    throw new TypeError(
      `mfcc expects a Float32Array of samples, got ${samples16k === null ? 'null' : typeof samples16k}`,
    );
  }
  const resolved = resolveFeatureConfig(config);
  const frames = frameCount(samples16k.length, resolved);
  const coeffs = resolved.num_mfcc;
  const data = new Float32Array(frames * coeffs);
  planFor(resolved).compute(samples16k, 0, frames, data, 0);
  return { frames, coeffs, data };
}
