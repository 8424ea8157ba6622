/**
 * Signal-quality numbers the API uses to accept or reject an enrollment clip (DESIGN §5).
 *
 * - `durationS`: samples / sampleRate.
 * - `peakDb`: 20·log10(max |x|) in dBFS, floored at `QUALITY_FLOOR_DB` (−120), so digital silence gives −120,
 *   never −Infinity (which JSON cannot carry).
 * - `clippingFraction`: share of samples with |x| ≥ `CLIP_LEVEL` (0.99, −0.09 dBFS). That catches samples
 *   pinned at the rails of any integer format (8-bit's positive rail is 127/128 ≈ 0.992) and floats at or
 *   beyond full scale; a clean recording normalized to exactly 0 dBFS touches it only at its few peaks.
 * - `speechS`: energy-based voice activity. Frames of 25 ms every 10 ms; a frame is speech when its level is
 *   at least `SPEECH_MARGIN_DB` (6 dB) above the noise floor — the 10th percentile of frame levels — and
 *   above `SPEECH_FLOOR_DB` (−60 dBFS). speechS = speech frames × 10 ms. A clip with no level contrast
 *   (stationary noise, a steady tone) therefore has no speech.
 * - `snrDb`: 10·log10((P_speech − P_noise) / P_noise), where P_speech is the mean power of speech frames and
 *   P_noise that of non-speech frames at least 2 frames away from speech (all non-speech frames if none is;
 *   the floor-percentile frame if every frame is speech). P_noise is floored at −120 dBFS and the result
 *   capped at `SNR_CAP_DB` (100), so digital silence around speech gives 100. No speech → 0.
 */

export interface SignalQuality {
  durationS: number;
  /** dBFS, ≥ QUALITY_FLOOR_DB. */
  peakDb: number;
  /** 0 … 1 */
  clippingFraction: number;
  speechS: number;
  snrDb: number;
}

export const QUALITY_FLOOR_DB = -120;
export const CLIP_LEVEL = 0.99;
export const SPEECH_MARGIN_DB = 6;
export const SPEECH_FLOOR_DB = -60;
export const SNR_CAP_DB = 100;
const FRAME_S = 0.025;
const HOP_S = 0.01;
const NOISE_PERCENTILE = 0.1;
const NOISE_GUARD_FRAMES = 2;
const FLOOR_POWER = 10 ** (QUALITY_FLOOR_DB / 10);

export function analyzeQuality(samples16k: Float32Array, sampleRate = 16000): SignalQuality {
  if (!(samples16k instanceof Float32Array)) {
    throw new TypeError('analyzeQuality expects a Float32Array of samples');
  }
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`analyzeQuality sample rate must be a positive number (Hz), got ${sampleRate}`);
  }
  const n = samples16k.length;
  let peak = 0;
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(samples16k[i]);
    if (Number.isNaN(a)) throw new RangeError(`analyzeQuality sample ${i} is NaN, expected a finite number`);
    if (a > peak) peak = a;
    if (a >= CLIP_LEVEL) clipped++;
  }
  if (!Number.isFinite(peak))
    throw new RangeError('analyzeQuality got an infinite sample, expected finite numbers');
  const { speechFrames, snrDb } = voiceActivity(samples16k, sampleRate);
  return {
    durationS: n / sampleRate,
    peakDb: Math.max(QUALITY_FLOOR_DB, 20 * Math.log10(peak)),
    clippingFraction: n === 0 ? 0 : clipped / n,
    speechS: speechFrames * HOP_S,
    snrDb,
  };
}

function voiceActivity(x: Float32Array, sampleRate: number): { speechFrames: number; snrDb: number } {
  const frameLength = Math.max(1, Math.round(FRAME_S * sampleRate));
  const hop = Math.max(1, Math.round(HOP_S * sampleRate));
  if (x.length === 0) return { speechFrames: 0, snrDb: 0 };
  const frames = x.length <= frameLength ? 1 : 1 + Math.floor((x.length - frameLength) / hop);
  const power = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    const start = f * hop;
    const end = Math.min(x.length, start + frameLength);
    let sum = 0;
    for (let i = start; i < end; i++) sum += x[i] * x[i];
    power[f] = Math.max(FLOOR_POWER, sum / (end - start));
  }
  const levels = Array.from(power, (p) => 10 * Math.log10(p)).sort((a, b) => a - b);
  const floorDb = levels[Math.floor(NOISE_PERCENTILE * (frames - 1))];
  const thresholdDb = Math.max(floorDb + SPEECH_MARGIN_DB, SPEECH_FLOOR_DB);

  const speech = Array.from(power, (p) => 10 * Math.log10(p) >= thresholdDb);
  const speechFrames = speech.filter(Boolean).length;
  if (speechFrames === 0) return { speechFrames: 0, snrDb: 0 };

  const nearSpeech = (f: number): boolean => {
    for (
      let g = Math.max(0, f - NOISE_GUARD_FRAMES);
      g <= Math.min(frames - 1, f + NOISE_GUARD_FRAMES);
      g++
    ) {
      if (speech[g]) return true;
    }
    return false;
  };
  const mean = (keep: (f: number) => boolean): number | undefined => {
    let sum = 0;
    let count = 0;
    for (let f = 0; f < frames; f++) {
      if (keep(f)) {
        sum += power[f];
        count++;
      }
    }
    return count === 0 ? undefined : sum / count;
  };
  const speechPower = mean((f) => speech[f]) as number;
  const noisePower =
    mean((f) => !nearSpeech(f)) ?? mean((f) => !speech[f]) ?? Math.max(FLOOR_POWER, 10 ** (floorDb / 10));
  const signalPower = Math.max(speechPower - noisePower, FLOOR_POWER);
  return { speechFrames, snrDb: Math.min(SNR_CAP_DB, 10 * Math.log10(signalPower / noisePower)) };
}
