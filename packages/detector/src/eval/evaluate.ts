/**
 * `kws eval`'s measurement: FRR on keyword clips, false accepts per hour on non-keyword audio (long streams
 * read in pieces), and the DET curve between them, all from one streaming-detection pass per file.
 */
import { readFile } from 'node:fs/promises';
import { AudioFormatError, decodeWav, readWavChunks, toMono16k } from '@kws/audio';
import { detect, StreamingDetector, type WindowScore } from '../detect/detector.ts';
import type { DetectorModel } from '../model/model-file.ts';
import {
  calibratedPoint,
  type DetPoint,
  detCurve,
  falseAcceptsPerHour,
  falseRejectRate,
  type NegativeStream,
  pointAtFaBudget,
} from './det.ts';
import { EvalInputError, listLabelledWavs } from './files.ts';

/** The false-accept budget of the product's target (issue 5: FRR ≤ 10 % at ≤ 0.5 FA/h). */
export const FA_BUDGET_PER_HOUR = 0.5;
const STREAM_CHUNK_FRAMES = 160_000;

export interface EvalOptions {
  model: DetectorModel;
  positivesDir: string;
  negativesDir: string;
  /** Overrides the model's threshold for the headline FRR and FA/h (the DET curve covers all thresholds). */
  threshold?: number;
  /**
   * Choose the threshold from this evaluation's DET curve instead (`calibratedPoint`: the lowest with at most
   * this many false accepts per hour); the report is at that threshold.
   */
  calibrateFaPerHour?: number;
  signal?: AbortSignal;
  onProgress?: (stage: 'positives' | 'negatives', done: number, total: number) => void;
}

export interface EvalReport {
  threshold: number;
  frr: number;
  fa_per_hour: number;
  positives: number;
  negative_files: number;
  negative_hours: number;
  /** FRR per voice, when the positives' manifest names voices. */
  per_voice: Record<string, { positives: number; frr: number }>;
  /** The lowest threshold with FA/h ≤ FA_BUDGET_PER_HOUR, and its FRR; null when none reaches it. */
  at_fa_budget: DetPoint | null;
  det: DetPoint[];
  /** Seconds of audio processed per second of wall-clock time. */
  real_time_factor: number;
}

async function readClip(path: string): Promise<Float32Array> {
  try {
    return toMono16k(decodeWav(await readFile(path)));
  } catch (error) {
    if (error instanceof AudioFormatError) throw new EvalInputError(`${path}: ${error.message}`);
    throw error;
  }
}

/** Runs the detector over one negative file, piece by piece, and keeps every window's score. */
async function scanStream(model: DetectorModel, path: string): Promise<NegativeStream> {
  const windows: WindowScore[] = [];
  const detector = new StreamingDetector(model, { onWindow: (w) => windows.push(w) });
  try {
    for await (const piece of readWavChunks(path, STREAM_CHUNK_FRAMES)) {
      if (piece.sampleRate !== model.header.feature_config.sample_rate) {
        // Resampling piece by piece would click at the seams: such files are read whole instead.
        const whole = new StreamingDetector(model, { onWindow: (w) => windows.push(w) });
        windows.length = 0;
        whole.push(await readClip(path));
        whole.finish();
        return { windows: [...windows], durationS: whole.durationS };
      }
      detector.push(toMono16k(piece));
    }
  } catch (error) {
    if (error instanceof AudioFormatError) throw new EvalInputError(`${path}: ${error.message}`);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new EvalInputError(`${path}: no such file`);
    throw error;
  }
  detector.finish();
  return { windows, durationS: detector.durationS };
}

export async function evaluateModel(options: EvalOptions): Promise<EvalReport> {
  const { model } = options;
  let threshold = options.threshold ?? model.header.threshold;
  const refractory = model.header.smoothing.refractory_s;
  const started = performance.now();
  const positiveFiles = await listLabelledWavs(options.positivesDir, 1);
  const negativeFiles = await listLabelledWavs(options.negativesDir, 0);
  let audioS = 0;
  const scores: number[] = [];
  const byVoice = new Map<string, number[]>();
  for (const [i, file] of positiveFiles.entries()) {
    options.signal?.throwIfAborted();
    const samples = await readClip(file.path);
    audioS += samples.length / model.header.feature_config.sample_rate;
    const { score } = detect(model, samples);
    scores.push(score);
    if (file.voice !== undefined) {
      const list = byVoice.get(file.voice) ?? [];
      list.push(score);
      byVoice.set(file.voice, list);
    }
    options.onProgress?.('positives', i + 1, positiveFiles.length);
  }
  const streams: NegativeStream[] = [];
  for (const [i, file] of negativeFiles.entries()) {
    options.signal?.throwIfAborted();
    const stream = await scanStream(model, file.path);
    audioS += stream.durationS;
    streams.push(stream);
    options.onProgress?.('negatives', i + 1, negativeFiles.length);
  }
  const det = detCurve(scores, streams, refractory);
  if (options.calibrateFaPerHour !== undefined) {
    threshold = calibratedPoint(det, options.calibrateFaPerHour).threshold;
  }
  const negativeS = streams.reduce((s, x) => s + x.durationS, 0);
  const perVoice: EvalReport['per_voice'] = {};
  for (const [voice, list] of [...byVoice.entries()].sort()) {
    perVoice[voice] = { positives: list.length, frr: falseRejectRate(list, threshold) };
  }
  return {
    threshold,
    frr: falseRejectRate(scores, threshold),
    fa_per_hour: falseAcceptsPerHour(streams, threshold, refractory),
    positives: scores.length,
    negative_files: streams.length,
    negative_hours: negativeS / 3600,
    per_voice: perVoice,
    at_fa_budget: pointAtFaBudget(det, FA_BUDGET_PER_HOUR),
    det,
    real_time_factor: audioS / Math.max(1e-9, (performance.now() - started) / 1000),
  };
}
