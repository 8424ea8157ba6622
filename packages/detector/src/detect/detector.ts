/**
 * Streaming keyword detection over audio of any length (DESIGN §4 `kws detect`).
 *
 * Audio goes through the streaming MFCC extractor; the model's ≈ 1.5 s window slides over the frames with
 * `smoothing.hop_s` between window starts. The detector holds the recent frames (a ring buffer) plus the
 * windows completed by the current `push`, which run as one batch (window-batch.ts). Windows overlap: for
 * the detector architecture, windows that run one per forward pass (a live stream's pushes) from the third
 * on take the work that depends on single frames — the convolution, its normalization and the first LSTM's
 * input projections — from a store filled once per frame (projected-windows.ts); batches of several
 * windows, and other networks, run whole. For each window the posteriors are smoothed
 * (`smoothing.window_frames`), and the window's score is their maximum. Windows scoring at or above the
 * threshold make detections; a window whose peak lies within `smoothing.refractory_s` of the current
 * detection's peak joins it instead of starting a new one.
 *
 * A detection's `end_s` and `start_s` bound the frames (over all windows that joined it) whose smoothed
 * posterior reaches the threshold. The model is trained to mark the end region of the keyword
 * (train/windows.ts), so the keyword's end lies inside [start_s, end_s]; its beginning is earlier.
 * Audio shorter than one window is padded with digital silence (as training pads short clips), and when the
 * audio ends between hops, one last window aligned to its end covers the tail.
 */
import { createMfccStream, type MfccStream } from '@kws/audio';
import type { Sequential } from '@kws/nn';
import { checkSmoothing, checkThreshold, DetectorModelError, type Smoothing } from '../model/header.ts';
import { type DetectorModel, networkGeometry } from '../model/model-file.ts';
import {
  inputFrameCenterS,
  outputFrameInputIndex,
  silenceFrame,
  type WindowGeometry,
} from '../train/windows.ts';
import { argMax, smoothPosteriors } from './posteriors.ts';
import { ProjectedWindows } from './projected-windows.ts';
import { FrameRing, WholeWindows, type WindowBatch } from './window-batch.ts';

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
/** MFCC frames handed to the window batch at once at most (a long push runs in such segments). */
const SEGMENT_FRAMES = 128;
/**
 * Windows run whole (at least; the switch waits for the end of a batch) before per-frame work is shared.
 * With a stride-2 convolution at an odd hop the first two windows that share read positions of one phase
 * each that no window read before — the store costs copies and saves nothing yet — so a detector per
 * short clip (evaluation: 1–3 windows) is faster without it.
 */
const WHOLE_WINDOWS_FIRST = 2;

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
  /** The recent MFCC frames (and, for audio shorter than a window, the silence frames that pad it). */
  private readonly ring: FrameRing;
  /** Completed windows waiting for the forward pass (its kernel memory released by finish). */
  private batch: WindowBatch;
  /** The batch the detector starts with (for any network), and runs batches of several windows with. */
  private readonly whole: WholeWindows;
  private readonly network: Sequential;
  /** Windows queued so far. */
  private queued = 0;
  /** Whether the batch is past the whole windows it starts with (shareFrameWork ran). */
  private switched = false;
  private readonly smoothed: Float32Array;
  /** Samples pushed so far. */
  private samples = 0;
  /** MFCC frames of the audio so far. */
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

  constructor(model: DetectorModel, options: DetectionOptions = {}) {
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
    this.ring = new FrameRing(this.g.inputFrames + 2 * SEGMENT_FRAMES, this.g.numMfcc);
    this.network = model.network;
    this.whole = new WholeWindows(model.network, this.g, this.ring, MAX_BATCH);
    this.batch = this.whole;
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
    const t = this.g.inputFrames;
    for (let from = 0; from < frames; from += SEGMENT_FRAMES) {
      const to = Math.min(frames, from + SEGMENT_FRAMES);
      this.addFrames(data, from, to);
      this.frames += to - from;
      while (this.nextStart + t <= this.frames) {
        this.queue(this.nextStart);
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
        // Padded with silence frames, as the window alone would be.
        const n = this.g.numMfcc;
        const pad = new Float32Array((t - this.frames) * n);
        for (let i = 0; i < pad.length; i += n) pad.set(this.silence, i);
        this.addFrames(pad, 0, t - this.frames);
        this.queue(0);
      } else if (this.frames >= t && this.coveredTo < this.frames) {
        this.queue(this.frames - t);
      }
      this.runPending();
      this.closeOpen();
      this.batch.release();
    }
    return { detected: this.closed.length > 0, score: this.best, detections: [...this.closed] };
  }

  /** Frames [from, to) of `data` into the ring, after running the queued windows if they need its room. */
  private addFrames(data: Float32Array, from: number, to: number): void {
    if (!this.batch.hasRoomFor(to - from)) this.runPending();
    this.ring.append(data, from, to);
  }

  /** Queues the window starting at frame `start` (its frames are in the ring). */
  private queue(start: number): void {
    // Between batches, so that the switch never splits one forward pass in two.
    if (!this.switched && this.queued >= WHOLE_WINDOWS_FIRST && this.batch.starts.length === 0) {
      this.shareFrameWork();
    }
    this.queued++;
    if (this.batch.starts.length === MAX_BATCH) this.runPending();
    this.batch.queue(start);
    this.coveredTo = Math.max(this.coveredTo, Math.min(this.frames, start + this.g.inputFrames));
  }

  /** From whole windows to per-frame work done once, where the network allows it. */
  private shareFrameWork(): void {
    this.switched = true;
    const projected = ProjectedWindows.create(
      this.network,
      this.g,
      this.ring,
      MAX_BATCH,
      SEGMENT_FRAMES,
      this.whole,
    );
    if (projected) this.batch = projected;
  }

  private runPending(): void {
    const starts = [...this.batch.starts];
    if (starts.length === 0) return;
    const o = this.g.outputFrames;
    const posteriors = this.batch.run();
    for (let b = 0; b < starts.length; b++) this.scoreWindow(starts[b], posteriors, b * o);
    this.windows += starts.length;
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
