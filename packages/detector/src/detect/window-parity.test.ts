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
import { createDetectorNetwork, detectorLayers } from '../model/architecture.ts';
import { detectorHeader } from '../model/header.ts';
import type { DetectorModel } from '../model/model-file.ts';
import { silenceFrame } from '../train/windows.ts';
import { detect, type WindowScore } from './detector.ts';
import { argMax, smoothPosteriors } from './posteriors.ts';
import { burst, RATE } from './testing.ts';

/** A detector with the real architecture and weights no training would give, BN statistics included. */
function randomDetector(): DetectorModel {
  const network = createDetectorNetwork({ seed: 7 });
  let a = 99;
  const next = () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
  network.setWeights(
    network.weights.map((w) => {
      const data = w.value.slice();
      const name = w.name;
      for (let i = 0; i < data.length; i++) {
        if (name.endsWith('moving_variance')) data[i] = 0.2 + 2 * next();
        else if (name.endsWith('moving_mean') || name.endsWith('beta')) data[i] = 2 * next() - 1;
        else if (name.endsWith('gamma')) data[i] = 0.5 + next();
        else data[i] += 0.05 * (2 * next() - 1);
      }
      return { shape: w.shape, data };
    }),
  );
  return {
    network,
    header: detectorHeader({
      keyword: 'hey nova',
      smoothing: { window_frames: 5, hop_s: 0.25, refractory_s: 1 },
    }),
  };
}

/** Speech-like audio: tone bursts and noise at several levels, so every layer sees varied input. */
function audio(seconds: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * RATE));
  for (let i = 0; i < x.length; i++) {
    const t = i / RATE;
    x[i] = 0.2 * Math.max(0, Math.sin(2 * Math.PI * 2.3 * t)) * Math.sin(2 * Math.PI * (180 + 40 * t) * t);
  }
  const noise = burst(x.length, 0.05);
  for (let i = 0; i < x.length; i++) x[i] += noise[i] * (i % 40_000 < 12_000 ? 1 : 0.05);
  return x;
}

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
    ['0.1 s pushes (one window per pass)', 1_600, 7.37],
    ['1 s pushes (up to 4 windows per pass)', 16_000, 7.37],
    ['one push (several batches)', 200_000, 11.1],
    ['audio shorter than a window', 16_000, 0.9],
  ])('%s', (_what, chunk, seconds) => {
    const x = audio(seconds);
    const { data, frames } = mfcc(x, fc);
    const windows: WindowScore[] = [];
    const result = detect(model, x, { onWindow: (w) => windows.push(w) }, chunk);
    expect(windows.length).toBeGreaterThan(0);
    let worst = 0;
    for (const w of windows) {
      const start = Math.round((w.startS * fc.sample_rate) / fc.frame_step);
      const want = referenceScore(data, frames, start);
      worst = Math.max(worst, Math.abs(w.score - want.score));
    }
    // Float rounding of a float32 network against float64: 6e-8 measured for the code of this commit.
    expect(worst).toBeLessThan(5e-6);
    expect(result.score).toBe(Math.max(...windows.map((w) => w.score)));
  });
});
