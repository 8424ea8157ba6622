/**
 * Streaming keyword detection over audio of any length (DESIGN §4 `kws detect`).
 *
 * Audio goes through the streaming MFCC extractor; the model's ≈ 1.5 s window slides over the frames with
 * `smoothing.hop_s` between window starts. The detector holds one window of frames (a ring buffer) plus the
 * windows completed by the current `push`, which run as one batch. For each window the posteriors are
 * smoothed (`smoothing.window_frames`), and the window's score is their maximum. Windows scoring at or above
 * the threshold make detections; a window whose peak lies within `smoothing.refractory_s` of the current
 * detection's peak joins it instead of starting a new one.
 *
 * A detection's `end_s` and `start_s` bound the frames (over all windows that joined it) whose smoothed
 * posterior reaches the threshold. The model is trained to mark the end region of the keyword
 * (train/windows.ts), so the keyword's end lies inside [start_s, end_s]; its beginning is earlier.
 * Audio shorter than one window is padded with digital silence (as training pads short clips), and when the
 * audio ends between hops, one last window aligned to its end covers the tail.
 */
import { createMfccStream, type MfccStream } from '@kws/audio';
import { kernels } from '@kws/nn';
import { checkSmoothing, checkThreshold, DetectorModelError, type Smoothing } from '../model/header.ts';
import { type DetectorModel, networkGeometry } from '../model/model-file.ts';
import {
  inputFrameCenterS,
  outputFrameInputIndex,
  silenceFrame,
  type WindowGeometry,
} from '../train/windows.ts';
import { argMax, smoothPosteriors } from './posteriors.ts';

export interface Detection {
  start_s: number;
  end_s: number;
  /** The largest smoothed posterior of the detection. */
  score: number;
}

export interface DetectionResult {
  detected: boolean;
  /** The largest window score over the whole audio (also when nothing was detected); 0 for no audio. */
  score: number;
  detections: Detection[];
}

/** One evaluated window, for evaluation tools that sweep the threshold after a single pass. */
export interface WindowScore {
  /** Seconds from the start of the audio to the window's first frame. */
  startS: number;
  /** Time of the window's largest smoothed posterior. */
  peakS: number;
  /** That posterior. */
  score: number;
}

/** Overrides of the model's stored `threshold` and `smoothing`, and a window observer. */
export interface DetectionOptions {
  threshold?: number;
  hopS?: number;
  smoothingFrames?: number;
  refractoryS?: number;
  /** Called for every evaluated window, in time order. */
  onWindow?: (window: WindowScore) => void;
}

/** Windows evaluated per forward pass at most (a long push runs several batches). */
const MAX_BATCH = 32;

interface OpenDetection extends Detection {
  peakS: number;
}

export class StreamingDetector {
  readonly threshold: number;
  readonly hopFrames: number;
  readonly smoothingFrames: number;
  readonly refractoryS: number;
  private readonly g: WindowGeometry;
  private readonly stream: MfccStream;
  private readonly silence: Float32Array;
  /** [inputFrames, numMfcc] ring: frame a lives in slot a mod inputFrames. */
  private readonly ring: Float32Array;
  /** [MAX_BATCH, inputFrames, numMfcc]: completed windows waiting for the forward pass (released by finish). */
  private readonly pending: Float32Array;
  private readonly pendingStarts: number[] = [];
  private readonly smoothed: Float32Array;
  /** Samples pushed so far. */
  private samples = 0;
  /** MFCC frames seen so far. */
  private frames = 0;
  /** First frame of the next window. */
  private nextStart = 0;
  /** One past the last frame covered by an evaluated window. */
  private coveredTo = 0;
  private best = 0;
  private open: OpenDetection | null = null;
  private readonly closed: Detection[] = [];
  private readonly onWindow: ((window: WindowScore) => void) | undefined;
  private finished = false;
  /** Windows evaluated so far. */
  windows = 0;

  constructor(
    private readonly model: DetectorModel,
    options: DetectionOptions = {},
  ) {
    const { header, network } = model;
    const fc = header.feature_config;
    this.g = { ...networkGeometry(network), featureConfig: fc };
    let smoothing: Smoothing;
    try {
      this.threshold = checkThreshold('detection threshold', options.threshold ?? header.threshold);
      smoothing = checkSmoothing(
        {
          window_frames: options.smoothingFrames ?? header.smoothing.window_frames,
          hop_s: options.hopS ?? header.smoothing.hop_s,
          refractory_s: options.refractoryS ?? header.smoothing.refractory_s,
        },
        'detection',
      );
    } catch (error) {
      // Options, not a model file, are wrong here.
      if (error instanceof DetectorModelError) throw new RangeError(error.message);
      throw error;
    }
    this.hopFrames = Math.round((smoothing.hop_s * fc.sample_rate) / fc.frame_step);
    if (this.hopFrames < 1 || this.hopFrames > this.g.inputFrames) {
      throw new RangeError(
        `hop ${smoothing.hop_s} s is ${this.hopFrames} frames; expected 1 to ${this.g.inputFrames} (one window)`,
      );
    }
    this.onWindow = options.onWindow;
    this.smoothingFrames = smoothing.window_frames;
    this.refractoryS = smoothing.refractory_s;
    this.stream = createMfccStream(fc);
    this.silence = silenceFrame(fc);
    const windowSize = this.g.inputFrames * this.g.numMfcc;
    this.ring = new Float32Array(windowSize);
    // In nn's kernel memory (where its backend has one), so the first layer reads the windows in place.
    this.pending = kernels().allocateFloat32(MAX_BATCH * windowSize);
    this.smoothed = new Float32Array(this.g.outputFrames);
  }

  /** Seconds of audio pushed so far. */
  get durationS(): number {
    return this.samples / this.g.featureConfig.sample_rate;
  }

  /**
   * Feeds mono samples at the model's `feature_config.sample_rate`. Returns the detections that became
   * final (no later window can join them); `finish` returns every detection.
   */
  push(samples: Float32Array): Detection[] {
    if (this.finished) throw new Error('StreamingDetector.push after finish');
    const before = this.closed.length;
    this.samples += samples.length;
    const { frames, data } = this.stream.push(samples);
    const n = this.g.numMfcc;
    const t = this.g.inputFrames;
    for (let f = 0; f < frames; f++) {
      const to = (this.frames++ % t) * n;
      for (let c = 0; c < n; c++) this.ring[to + c] = data[f * n + c];
      if (this.frames === this.nextStart + t) {
        this.queueFromRing(this.nextStart);
        this.nextStart += this.hopFrames;
      }
    }
    this.runPending();
    return this.closed.slice(before);
  }

  /** Evaluates what is left (a padded window for short audio, a tail window) and returns the result. */
  finish(): DetectionResult {
    if (!this.finished) {
      this.finished = true;
      const t = this.g.inputFrames;
      if (this.frames > 0 && this.frames < t) {
        this.queueFromRing(0);
      } else if (this.frames >= t && this.coveredTo < this.frames) {
        this.queueFromRing(this.frames - t);
      }
      this.runPending();
      this.closeOpen();
      kernels().release(this.pending);
    }
    return { detected: this.closed.length > 0, score: this.best, detections: [...this.closed] };
  }

  /** Copies the window starting at frame `start` (its frames are the last ones seen) out of the ring. */
  private queueFromRing(start: number): void {
    if (this.pendingStarts.length === MAX_BATCH) this.runPending();
    const n = this.g.numMfcc;
    const t = this.g.inputFrames;
    const base = this.pendingStarts.length * t * n;
    // Frames start … start + t − 1 that exist are at most two runs of the ring (before and after the wrap).
    const have = Math.min(t, this.frames - start);
    const from = start % t;
    const first = Math.min(have, t - from);
    this.pending.set(this.ring.subarray(from * n, (from + first) * n), base);
    this.pending.set(this.ring.subarray(0, (have - first) * n), base + first * n);
    for (let i = have; i < t; i++) this.pending.set(this.silence, base + i * n);
    this.pendingStarts.push(start);
    this.coveredTo = Math.max(this.coveredTo, Math.min(this.frames, start + t));
  }

  private runPending(): void {
    const batch = this.pendingStarts.length;
    if (batch === 0) return;
    const { inputFrames: t, numMfcc: n, outputFrames: o } = this.g;
    const y = this.model.network.forward({
      shape: [batch, t, n],
      data: this.pending.subarray(0, batch * t * n),
    });
    // One copy out of the kernel memory: JS reads a shared wasm memory several times slower than its own.
    const posteriors = (y.data as Float32Array).slice(0, batch * o);
    for (let b = 0; b < batch; b++) this.scoreWindow(this.pendingStarts[b], posteriors, b * o);
    this.windows += batch;
    this.pendingStarts.length = 0;
  }

  private frameTimeS(start: number, j: number): number {
    const time = inputFrameCenterS(this.g, start + outputFrameInputIndex(this.g, j));
    return Math.min(time, this.durationS);
  }

  private scoreWindow(start: number, posteriors: Float32Array, offset: number): void {
    const o = this.g.outputFrames;
    const s = this.smoothed;
    smoothPosteriors(s, posteriors, offset, o, this.smoothingFrames);
    const peak = argMax(s, o);
    const score = s[peak];
    this.best = Math.max(this.best, score);
    const fc = this.g.featureConfig;
    const windowStartS = (start * fc.frame_step) / fc.sample_rate;
    this.onWindow?.({ startS: windowStartS, peakS: this.frameTimeS(start, peak), score });
    if (this.open && windowStartS > this.open.peakS + this.refractoryS) this.closeOpen();
    if (score < this.threshold) return;
    let first = peak;
    let last = peak;
    while (first > 0 && s[first - 1] >= this.threshold) first--;
    while (last < o - 1 && s[last + 1] >= this.threshold) last++;
    const peakS = this.frameTimeS(start, peak);
    const startS = this.frameTimeS(start, first);
    const endS = this.frameTimeS(start, last);
    const open = this.open;
    if (open && peakS <= open.peakS + this.refractoryS) {
      open.start_s = Math.min(open.start_s, startS);
      open.end_s = Math.max(open.end_s, endS);
      if (score > open.score) {
        open.score = score;
        open.peakS = peakS;
      }
      return;
    }
    this.closeOpen();
    this.open = { start_s: startS, end_s: endS, score, peakS };
  }

  private closeOpen(): void {
    if (!this.open) return;
    const { start_s, end_s, score } = this.open;
    this.closed.push({ start_s, end_s, score });
    this.open = null;
  }
}

/** Pushes `samples` (at the model's sample rate) through a fresh streaming detector in `chunk`-sample pieces. */
export function detect(
  model: DetectorModel,
  samples: Float32Array,
  options: DetectionOptions = {},
  chunk = 16_000,
): DetectionResult {
  const detector = new StreamingDetector(model, options);
  for (let i = 0; i < samples.length; i += chunk) detector.push(samples.subarray(i, i + chunk));
  return detector.finish();
}
