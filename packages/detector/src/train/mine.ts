/**
 * Hard-negative mining: run a detector over non-keyword audio (a long stream, negative clips) and keep the
 * places where it fires, as short clips to train the next model on (`kws mine`, then `kws train-base --hard`).
 * Each mined clip is the firing window with some context on both sides, so training can place its window
 * around the false accept.
 */
import { readFile } from 'node:fs/promises';
import { decodeWav, toMono16k } from '@kws/audio';
import { StreamingDetector, type WindowScore } from '../detect/detector.ts';
import { type DetectorModel, networkGeometry } from '../model/model-file.ts';

export interface MinedClip {
  /** The file it was cut from. */
  source: string;
  /** Where the clip starts in that file, seconds. */
  startS: number;
  /** The firing window's score. */
  score: number;
  samples: Float32Array;
}

export interface MineOptions {
  model: DetectorModel;
  /** WAV files of non-keyword audio. */
  files: readonly string[];
  /** Windows scoring at or above this are false accepts worth training on. */
  threshold: number;
  /** Seconds of audio kept before and after the firing window. */
  contextS?: number;
  /** At most this many clips, the highest-scoring first. */
  max?: number;
  onProgress?: (done: number, total: number, found: number) => void;
}

const DEFAULT_CONTEXT_S = 0.5;

export async function mineHardNegatives(options: MineOptions): Promise<MinedClip[]> {
  const { model, threshold } = options;
  const rate = model.header.feature_config.sample_rate;
  const contextS = options.contextS ?? DEFAULT_CONTEXT_S;
  const span = windowSpanS(model);
  const found: MinedClip[] = [];
  for (const [i, source] of options.files.entries()) {
    const samples = toMono16k(decodeWav(await readFile(source)));
    const windows: WindowScore[] = [];
    const detector = new StreamingDetector(model, {
      threshold,
      onWindow: (w) => {
        if (w.score >= threshold) windows.push(w);
      },
    });
    const chunk = 10 * rate;
    for (let at = 0; at < samples.length; at += chunk) detector.push(samples.subarray(at, at + chunk));
    detector.finish();
    const kept: WindowScore[] = [];
    for (const w of [...windows].sort((a, b) => b.score - a.score)) {
      // Overlapping windows see the same false accept: the best of them is kept.
      if (kept.some((k) => Math.abs(k.startS - w.startS) < span)) continue;
      kept.push(w);
    }
    for (const w of kept) {
      const from = Math.max(0, Math.round((w.startS - contextS) * rate));
      const to = Math.min(samples.length, Math.round((w.startS + span + contextS) * rate));
      found.push({ source, startS: from / rate, score: w.score, samples: samples.slice(from, to) });
    }
    options.onProgress?.(i + 1, options.files.length, found.length);
  }
  found.sort((a, b) => b.score - a.score);
  return options.max === undefined ? found : found.slice(0, options.max);
}

/** Seconds of audio one window of the model covers. */
function windowSpanS(model: DetectorModel): number {
  const fc = model.header.feature_config;
  const frames = networkGeometry(model.network).inputFrames;
  return ((frames - 1) * fc.frame_step + fc.frame_length) / fc.sample_rate;
}
