/**
 * The streaming detector's speed work must not change what it outputs beyond float rounding. Reference:
 * the same network in float64 (packages/nn runs float64 through its pure-TS kernels, the oracle of its
 * gradient checks), applied to each window alone — the window cut from the batch `mfcc()` of the whole
 * audio, padded with silence frames past the end — then smoothed as the detector smooths. Every window the
 * detector reports must score what the reference scores, whatever the push sizes (one window per forward
 * pass, or many).
 */
import { mfcc } from '@kws/audio';
import { Sequential } from '@kws/nn';
import { describe, expect, it } from 'vitest';
import { detectorLayers } from '../model/architecture.ts';
import { silenceFrame } from '../train/windows.ts';
import { detect, type WindowScore } from './detector.ts';
import { argMax, smoothPosteriors } from './posteriors.ts';
import { randomDetector, speechLike } from './testing.ts';

describe('streaming detection equals the network applied to each window alone', () => {
  const model = randomDetector();
  const reference = Sequential.fromSpec(detectorLayers(), { dtype: 'float64' });
  reference.build(model.network.inputShape as number[]);
  reference.setWeights(model.network.getWeights());
  const fc = model.header.feature_config;

  function referenceScore(
    features: Float32Array,
    frames: number,
    start: number,
  ): { score: number; peak: number } {
    const [t, n] = model.network.inputShape as number[];
    const silence = silenceFrame(fc);
    const x = new Float64Array(t * n);
    for (let i = 0; i < t; i++) {
      const a = start + i;
      x.set(a < frames ? features.subarray(a * n, a * n + n) : silence, i * n);
    }
    const y = reference.forward({ shape: [1, t, n], data: x }).data;
    const o = y.length;
    const s = new Float32Array(o);
    smoothPosteriors(s, Float32Array.from(y), 0, o, model.header.smoothing.window_frames);
    const peak = argMax(s, o);
    return { score: s[peak], peak };
  }

  it.each([
    ['0.1 s pushes (one window per pass)', 1_600, 7.37, undefined],
    ['1 s pushes (up to 4 windows per pass)', 16_000, 7.37, undefined],
    ['one push (several batches)', 200_000, 11.1, undefined],
    ['audio shorter than a window', 16_000, 0.9, undefined],
    ['exactly one window', 1_000, 1.495, undefined],
    // An odd hop alternates the stride-2 convolution's phase between windows; an even one keeps it.
    ['odd pushes (1,234 samples), tail window at an even frame', 1_234, 7.38, undefined],
    ['pushes of 333 samples, hop 13 frames', 333, 4.1, 0.13],
    ['hop 20 frames (one phase), 7 s in one push', 200_000, 7, 0.2],
    ['hop of a whole window (148 frames), one push', 200_000, 9.3, 1.48],
  ])('%s', (_what, chunk, seconds, hopS) => {
    const x = speechLike(seconds);
    const { data, frames } = mfcc(x, fc);
    const windows: WindowScore[] = [];
    const result = detect(model, x, { hopS, onWindow: (w) => windows.push(w) }, chunk);
    const starts = windows.map((w) => Math.round((w.startS * fc.sample_rate) / fc.frame_step));
    // Every hop from 0, and one window aligned to the end when the last hop leaves frames uncovered.
    const hop = Math.round(((hopS ?? 0.25) * fc.sample_rate) / fc.frame_step);
    const t = model.network.inputShape?.[0] ?? 0;
    const regular = frames < t ? 1 : Math.floor((frames - t) / hop) + 1;
    expect(starts.slice(0, regular)).toEqual(Array.from({ length: regular }, (_, i) => i * hop));
    expect(starts.length - regular).toBe(frames > t && (frames - t) % hop !== 0 ? 1 : 0);
    let worst = 0;
    for (const [i, w] of windows.entries()) {
      const want = referenceScore(data, frames, starts[i]);
      worst = Math.max(worst, Math.abs(w.score - want.score));
    }
    // Float rounding of a float32 network against float64: ≈ 6e-8 measured.
    expect(worst).toBeLessThan(5e-6);
    expect(result.score).toBe(Math.max(...windows.map((w) => w.score)));
  });
});
