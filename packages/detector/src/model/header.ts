/**
 * The header fields the detector owns in a `.kws` file (DESIGN §3): `keyword`, `created_at`,
 * `base_model_sha256`, `feature_config`, `threshold`, `smoothing` and `metrics`. packages/nn writes the
 * container and passes these through untouched; this module gives them types, defaults and validation.
 */
import { DEFAULT_FEATURE_CONFIG, type FeatureConfig, resolveFeatureConfig } from '@kws/audio';

/** How streaming detection turns per-frame posteriors into detections. */
export interface Smoothing {
  /**
   * Posterior smoothing: each model output frame's posterior is replaced by the mean over this many
   * consecutive output frames centred on it (output frames are 20 ms apart for the default detector).
   */
  window_frames: number;
  /** Seconds between the starts of consecutive ≈ 1.5 s windows. */
  hop_s: number;
  /** Seconds after a detection's peak during which no new detection starts. */
  refractory_s: number;
}

/** Measured quality of the model, or `{}` before it was evaluated. */
export type ModelMetrics =
  | {
      /** False-reject rate on positives at `threshold`, in [0, 1]. */
      frr: number;
      /** False accepts per hour of non-keyword audio at `threshold`. */
      fa_per_hour: number;
      /** What the metrics were measured on (voices, clip counts, hours), free-form. */
      eval: Record<string, unknown>;
    }
  | Record<string, never>;

export interface DetectorHeader {
  keyword: string;
  /** ISO 8601 time the model was written. */
  created_at: string;
  /** SHA-256 (hex) of the base `.kws` a personalized model was fine-tuned from; null for a base model. */
  base_model_sha256: string | null;
  /** The MFCC configuration the model was trained with; detection must use the same. */
  feature_config: FeatureConfig;
  /** Smoothed posterior at or above which a keyword is detected, in (0, 1). */
  threshold: number;
  smoothing: Smoothing;
  metrics: ModelMetrics;
}

export const DEFAULT_THRESHOLD = 0.5;
export const DEFAULT_SMOOTHING: Readonly<Smoothing> = Object.freeze({
  window_frames: 5,
  hop_s: 0.25,
  refractory_s: 1,
});

/** A model file whose detector fields are missing or malformed. */
export class DetectorModelError extends Error {
  override name = 'DetectorModelError';
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Throws for `field` (a full description such as "model header threshold"). */
function fail(field: string, expected: string, value: unknown): never {
  throw new DetectorModelError(`${field} must be ${expected}; received ${describe(value)}`);
}

const HEADER = 'model header';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function positiveNumber(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(field, 'a finite number > 0', value);
  }
  return value;
}

export function checkThreshold(field: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) fail(field, 'a probability in (0, 1)', value);
  return value;
}

export function checkSmoothing(value: unknown, field = `${HEADER} smoothing`): Smoothing {
  if (!isObject(value)) fail(field, 'an object { window_frames, hop_s, refractory_s }', value);
  const frames = value.window_frames;
  if (!Number.isInteger(frames) || (frames as number) < 1) {
    fail(`${field}.window_frames`, 'an integer ≥ 1', frames);
  }
  const refractory = value.refractory_s;
  if (typeof refractory !== 'number' || !Number.isFinite(refractory) || refractory < 0) {
    fail(`${field}.refractory_s`, 'a finite number ≥ 0', refractory);
  }
  return {
    window_frames: frames as number,
    hop_s: positiveNumber(`${field}.hop_s`, value.hop_s),
    refractory_s: refractory,
  };
}

function checkMetrics(value: unknown): ModelMetrics {
  if (!isObject(value)) fail(`${HEADER} metrics`, 'an object', value);
  if (Object.keys(value).length === 0) return {};
  const { frr, fa_per_hour: faPerHour, eval: evaluation } = value;
  if (typeof frr !== 'number' || !(frr >= 0 && frr <= 1))
    fail(`${HEADER} metrics.frr`, 'a rate in [0, 1]', frr);
  if (typeof faPerHour !== 'number' || !Number.isFinite(faPerHour) || faPerHour < 0) {
    fail(`${HEADER} metrics.fa_per_hour`, 'a finite number ≥ 0', faPerHour);
  }
  if (!isObject(evaluation)) fail(`${HEADER} metrics.eval`, 'an object', evaluation);
  return { frr, fa_per_hour: faPerHour, eval: evaluation };
}

/** Validates the detector's fields of a model file header (extra fields of other owners are ignored). */
export function parseDetectorHeader(extra: Record<string, unknown>): DetectorHeader {
  const { keyword, created_at: createdAt, base_model_sha256: baseSha } = extra;
  if (typeof keyword !== 'string' || keyword.trim() === '')
    fail(`${HEADER} keyword`, 'a non-empty string', keyword);
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) {
    fail(`${HEADER} created_at`, 'an ISO 8601 time', createdAt);
  }
  if (baseSha !== null && (typeof baseSha !== 'string' || !/^[0-9a-f]{64}$/.test(baseSha))) {
    fail(`${HEADER} base_model_sha256`, 'null or 64 lowercase hex digits', baseSha);
  }
  if (!isObject(extra.feature_config)) fail(`${HEADER} feature_config`, 'an object', extra.feature_config);
  let featureConfig: FeatureConfig;
  try {
    featureConfig = resolveFeatureConfig(extra.feature_config as Partial<FeatureConfig>);
  } catch (error) {
    throw new DetectorModelError(`model header feature_config: ${(error as Error).message}`);
  }
  return {
    keyword,
    created_at: createdAt,
    base_model_sha256: baseSha as string | null,
    feature_config: featureConfig,
    threshold: checkThreshold(`${HEADER} threshold`, extra.threshold),
    smoothing: checkSmoothing(extra.smoothing),
    metrics: checkMetrics(extra.metrics),
  };
}

/** A header for a new model: defaults for everything not given, validated like a loaded one. */
export function detectorHeader(fields: Partial<DetectorHeader> & { keyword: string }): DetectorHeader {
  return parseDetectorHeader({
    created_at: new Date().toISOString(),
    base_model_sha256: null,
    feature_config: { ...DEFAULT_FEATURE_CONFIG },
    threshold: DEFAULT_THRESHOLD,
    smoothing: { ...DEFAULT_SMOOTHING },
    metrics: {},
    ...fields,
  });
}
