/**
 * A stand-in detector for tests of everything around the network (streaming, smoothing, the CLI): its
 * posterior is a known function of loudness, so where detections must be follows from the audio.
 * Not exported from the package.
 */
import { DEFAULT_FEATURE_CONFIG, mfcc } from '@kws/audio';
import { Sequential } from '@kws/nn';
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
