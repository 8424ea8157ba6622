/**
 * Feature configuration, in the snake_case names the model file stores (`feature_config`, DESIGN §1/§3).
 * A model is only valid with the features it was trained on, so devices read this object from the model.
 */
export interface FeatureConfig {
  /** Hz. `mfcc()` input must already be at this rate. */
  sample_rate: number;
  /** Samples per frame (25 ms at 16 kHz). */
  frame_length: number;
  /** Samples between frame starts (10 ms at 16 kHz). */
  frame_step: number;
  /** FFT length (≥ frame_length, even); frames are zero-padded to it. */
  fft_length: number;
  /** Window applied to each frame; only the periodic Hann window is defined. */
  window: 'hann_periodic';
  /** Triangular HTK-mel filters. */
  num_mel_bins: number;
  /** Hz, lower edge of the first mel filter. */
  lower_edge_hertz: number;
  /** Hz, upper edge of the last mel filter (≤ sample_rate / 2). */
  upper_edge_hertz: number;
  /** Added to every mel energy before the natural log, so silence gives ln(log_offset), not −∞. */
  log_offset: number;
  /** DCT-II coefficients kept (≤ num_mel_bins). */
  num_mfcc: number;
}

export const DEFAULT_FEATURE_CONFIG: Readonly<FeatureConfig> = Object.freeze({
  sample_rate: 16000,
  frame_length: 400,
  frame_step: 160,
  fft_length: 512,
  window: 'hann_periodic',
  num_mel_bins: 40,
  lower_edge_hertz: 20,
  upper_edge_hertz: 7600,
  log_offset: 1e-6,
  num_mfcc: 13,
});

const KEYS = Object.keys(DEFAULT_FEATURE_CONFIG) as (keyof FeatureConfig)[];

/** Defaults merged first, then the whole result validated; errors name the key, the value and the rule. */
export function resolveFeatureConfig(config: Partial<FeatureConfig> = {}): FeatureConfig {
  if (config === null || typeof config !== 'object') {
    throw new TypeError(`feature config must be an object, got ${config === null ? 'null' : typeof config}`);
  }
  for (const key of Object.keys(config)) {
    if (!(KEYS as string[]).includes(key)) {
      throw new RangeError(`unknown feature config key "${key}"; expected one of ${KEYS.join(', ')}`);
    }
  }
  const c: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, ...config };
  const integer = (key: keyof FeatureConfig, min: number): void => {
    const value = c[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new RangeError(`feature config ${key} must be an integer ≥ ${min}, got ${String(value)}`);
    }
  };
  integer('sample_rate', 1);
  integer('frame_length', 1);
  integer('frame_step', 1);
  integer('fft_length', 2);
  integer('num_mel_bins', 1);
  integer('num_mfcc', 1);
  if (c.fft_length % 2 !== 0 || c.fft_length < c.frame_length) {
    throw new RangeError(
      `feature config fft_length must be even and ≥ frame_length (${c.frame_length}), got ${c.fft_length}`,
    );
  }
  if (c.window !== 'hann_periodic') {
    throw new RangeError(`feature config window must be "hann_periodic", got ${JSON.stringify(c.window)}`);
  }
  if (c.num_mfcc > c.num_mel_bins) {
    throw new RangeError(
      `feature config num_mfcc must be ≤ num_mel_bins (${c.num_mel_bins}), got ${c.num_mfcc}`,
    );
  }
  const nyquist = c.sample_rate / 2;
  if (
    !Number.isFinite(c.lower_edge_hertz) ||
    !Number.isFinite(c.upper_edge_hertz) ||
    c.lower_edge_hertz < 0 ||
    c.lower_edge_hertz >= c.upper_edge_hertz ||
    c.upper_edge_hertz > nyquist
  ) {
    throw new RangeError(
      `feature config needs 0 ≤ lower_edge_hertz < upper_edge_hertz ≤ ${nyquist} (sample_rate / 2), ` +
        `got ${c.lower_edge_hertz} and ${c.upper_edge_hertz}`,
    );
  }
  if (!(c.log_offset > 0) || !Number.isFinite(c.log_offset)) {
    throw new RangeError(`feature config log_offset must be a finite number > 0, got ${c.log_offset}`);
  }
  return c;
}

/** Frames in N samples: no padding, so `N < frame_length ? 0 : 1 + floor((N − frame_length) / frame_step)`. */
export function frameCount(samples: number, config: FeatureConfig): number {
  return samples < config.frame_length
    ? 0
    : 1 + Math.floor((samples - config.frame_length) / config.frame_step);
}

/** A stable identity for caching tables per configuration. */
export function configKey(config: FeatureConfig): string {
  return KEYS.map((key) => `${key}=${config[key]}`).join(',');
}
