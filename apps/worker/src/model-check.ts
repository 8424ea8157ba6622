import { type DetectorModel, detect, loadDetectorModel, toTfjs } from '@kws/detector';
import { errors } from '@kws/store';

/** Seconds of audio the check window covers: a bit more than one model window (≈ 1.5 s). */
const CHECK_SECONDS = 2;
const SAMPLE_RATE = 16_000;

/** What a checked model yields for storage: the tfjs export and the header values the job reports. */
export interface CheckedModel {
  model: DetectorModel;
  tfjs: { modelJson: Uint8Array; weights: Uint8Array };
  threshold: number;
  frr: number;
  faPerHour: number;
}

/**
 * A deterministic test window: a 300 Hz tone with a 2 Hz amplitude envelope over low noise from a fixed
 * linear-congruential sequence, so the network sees speech-like energy changes, not only silence.
 */
export function checkWindow(): Float32Array {
  const samples = new Float32Array(CHECK_SECONDS * SAMPLE_RATE);
  let state = 12345;
  for (let i = 0; i < samples.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const noise = (state / 2 ** 32 - 0.5) * 0.02;
    const t = i / SAMPLE_RATE;
    samples[i] = noise + 0.3 * Math.abs(Math.sin(2 * Math.PI * 2 * t)) * Math.sin(2 * Math.PI * 300 * t);
  }
  return samples;
}

/**
 * Checks a freshly trained `.kws` before it may become a user's current model: it loads, a detection pass
 * over a test window gives a finite score in [0, 1], its threshold is in (0, 1), its metrics are present and
 * finite, and it exports to tfjs. Throws `KWS_ERR_MODEL_INVALID` naming the first failed check.
 */
export function checkModel(bytes: Uint8Array): CheckedModel {
  const invalid = (what: string) => errors.MODEL_INVALID(`the trained model is not usable: ${what}`);
  let model: DetectorModel;
  try {
    model = loadDetectorModel(bytes);
  } catch (err) {
    throw invalid(`it does not load (${(err as Error).message})`);
  }
  const { threshold, metrics } = model.header;
  if (!(Number.isFinite(threshold) && threshold > 0 && threshold < 1)) {
    throw invalid(`threshold must be in (0, 1), received ${threshold}`);
  }
  if (!('frr' in metrics) || !Number.isFinite(metrics.frr) || !Number.isFinite(metrics.fa_per_hour)) {
    throw invalid(`metrics must hold finite frr and fa_per_hour, received ${JSON.stringify(metrics)}`);
  }
  const result = detect(model, checkWindow());
  if (!(Number.isFinite(result.score) && result.score >= 0 && result.score <= 1)) {
    throw invalid(`its score on the test window must be a probability, received ${result.score}`);
  }
  let tfjs: CheckedModel['tfjs'];
  try {
    const { modelJson, weights } = toTfjs(model);
    tfjs = { modelJson: new TextEncoder().encode(`${JSON.stringify(modelJson)}\n`), weights };
  } catch (err) {
    throw invalid(`it does not export to tfjs (${(err as Error).message})`);
  }
  return { model, tfjs, threshold, frr: metrics.frr, faPerHour: metrics.fa_per_hour };
}
