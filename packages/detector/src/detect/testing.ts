/**
 * Test helpers, not exported from the package: a stand-in detector for tests of everything around the
 * network (streaming, smoothing, the CLI), whose posterior is a known function of loudness, so where
 * detections must be follows from the audio; and a detector with the real architecture and random
 * weights, with speech-like audio, for tests of the network's streaming path.
 */
import { DEFAULT_FEATURE_CONFIG, mfcc } from '@kws/audio';
import { Sequential } from '@kws/nn';
import { createDetectorNetwork } from '../model/architecture.ts';
import { detectorHeader, type Smoothing } from '../model/header.ts';
import type { DetectorModel } from '../model/model-file.ts';

export const RATE = 16_000;
export const WINDOW = 148;

/**
 * A stand-in detector whose posterior is a known function of loudness: a 1-tap stride-2 convolution reads
 * c0 (the log-energy coefficient) of every other frame and a sigmoid maps "noise" to ≈ 0.99 and "silence"
 * to ≈ 0.01. With it, where detections must be follows from where the noise bursts are.
 */
export function loudnessModel(smoothing: Partial<Smoothing> = {}, threshold = 0.5): DetectorModel {
  const c0 = (x: Float32Array) => mfcc(x, DEFAULT_FEATURE_CONFIG).data[0];
  const quiet = c0(new Float32Array(400));
  const loud = c0(burst(400, 0.3));
  const scale = 10 / (loud - quiet);
  const network = Sequential.fromSpec([
    {
      class_name: 'Conv1D',
      config: {
        name: 'c0',
        filters: 1,
        kernel_size: [1],
        strides: [2],
        padding: 'same',
        batch_input_shape: [null, WINDOW, 13],
      },
    },
    { class_name: 'Activation', config: { name: 'sigmoid', activation: 'sigmoid' } },
  ]);
  network.build([WINDOW, 13]);
  const kernel = new Float32Array(13);
  kernel[0] = scale;
  network.setWeights([
    { shape: [1, 13, 1], data: kernel },
    { shape: [1], data: new Float32Array([-scale * ((quiet + loud) / 2)]) },
  ]);
  return {
    network,
    header: detectorHeader({
      keyword: 'tone',
      threshold,
      smoothing: { window_frames: 1, hop_s: 0.25, refractory_s: 1, ...smoothing },
    }),
  };
}

/** Uniform white noise of `length` samples in [−amplitude, amplitude) (a fixed LCG, so runs repeat). */
export function burst(length: number, amplitude: number): Float32Array {
  let a = 12345;
  return Float32Array.from({ length }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return amplitude * (2 * (a / 2 ** 32) - 1);
  });
}

/** `seconds` of silence with noise bursts [startS, endS, amplitude] (broadband, so c0 rises in every frame). */
export function scene(seconds: number, bursts: [number, number, number][]): Float32Array {
  const x = new Float32Array(Math.round(seconds * RATE));
  for (const [from, to, amplitude] of bursts) {
    x.set(burst(Math.round((to - from) * RATE), amplitude), Math.round(from * RATE));
  }
  return x;
}

/** A detector with the real architecture and weights no training would give, BN statistics included. */
export function randomDetector(): DetectorModel {
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
export function speechLike(seconds: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * RATE));
  for (let i = 0; i < x.length; i++) {
    const t = i / RATE;
    x[i] = 0.2 * Math.max(0, Math.sin(2 * Math.PI * 2.3 * t)) * Math.sin(2 * Math.PI * (180 + 40 * t) * t);
  }
  const noise = burst(x.length, 0.05);
  for (let i = 0; i < x.length; i++) x[i] += noise[i] * (i % 40_000 < 12_000 ? 1 : 0.05);
  return x;
}
