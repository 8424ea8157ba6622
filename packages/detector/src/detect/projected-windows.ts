/**
 * Windows that overlap share their per-frame work. The detector network begins Conv1D → per-frame layers
 * (BatchNormalization, ReLU) → Bidirectional(LSTM), and the LSTM's input projections x_t · kernel + bias
 * (both directions) depend on x_t alone. So an output frame of the convolution whose taps all lie inside
 * the window depends only on which stream frames those taps read, not on the window: this batch computes
 * conv → per-frame layers → projections once per stream position p (taps on frames p, p + dilation, …),
 * with a stride-1 'valid' copy of the convolution, which also covers both phases of a strided one (with an
 * odd hop, consecutive windows read alternating positions). Per window only the recurrences and the layers
 * after them run (`Bidirectional.forwardProjected`).
 *
 * Output frames whose taps reach past the window's edges read the window's zero padding there, which no
 * stream position has: they are computed per window exactly as the window alone computes them, from
 * `span` frames with zeros where the window has none. Audio shorter than a window reaches the batch with
 * silence frames appended (what the window would be padded with), so every window is a run of frames.
 *
 * Equal to the network applied to each window up to float rounding (window-parity.test.ts).
 */
import {
  Activation,
  BatchNormalization,
  Bidirectional,
  Conv1D,
  kernels,
  type Layer,
  layerFromSpec,
  RecurrentLayer,
  type Sequential,
  type Tensor,
  TimeDistributed,
} from '@kws/nn';
import type { NetworkGeometry } from '../model/model-file.ts';
import type { FrameRing, WindowBatch } from './window-batch.ts';

/** A recurrent layer that takes precomputed input projections (Bidirectional or a plain one). */
type Projecting = Bidirectional | RecurrentLayer;

/** Layers that map every frame on its own, so they commute with cutting windows out of a stream. */
function perFrame(layer: Layer): boolean {
  return (
    layer instanceof BatchNormalization || layer instanceof Activation || layer instanceof TimeDistributed
  );
}

/** The network cut where it can share work between windows: null when it does not start conv → … → RNN. */
function split(
  network: Sequential,
): { conv: Conv1D; frameLayers: Layer[]; rnn: Projecting; rest: Layer[] } | null {
  const [conv, ...layers] = network.layers;
  if (!(conv instanceof Conv1D)) return null;
  let i = 0;
  while (i < layers.length && perFrame(layers[i])) i++;
  const rnn = layers[i];
  if (!(rnn instanceof Bidirectional || rnn instanceof RecurrentLayer)) return null;
  return { conv, frameLayers: layers.slice(0, i), rnn, rest: layers.slice(i + 1) };
}

/** Conv1D (as a stride-1 'valid' convolution) and the per-frame layers after it, with their own buffers. */
class FrameStage {
  private readonly layers: Layer[];
  /** Values per frame of the output. */
  readonly features: number;

  constructor(conv: Conv1D, frameLayers: readonly Layer[], inChannels: number) {
    const clone = (layer: Layer, config: Record<string, unknown>) =>
      layerFromSpec({ class_name: layer.className, config }, { dtype: layer.dtype });
    this.layers = [
      clone(conv, { ...conv.getConfig(), strides: [1], padding: 'valid' }),
      ...frameLayers.map((l) => clone(l, l.getConfig())),
    ];
    const originals = [conv, ...frameLayers];
    let shape = [conv.span, inChannels];
    this.layers.forEach((layer, i) => {
      shape = layer.build(shape);
      layer.weights.forEach((w, j) => {
        w.value.set(originals[i].weights[j].value);
      });
    });
    this.features = shape[shape.length - 1];
  }

  /** [batch, frames, in] → [batch, frames − span + 1, features]. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }

  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}

export class ProjectedWindows implements WindowBatch {
  readonly starts: number[] = [];
  /** Stream positions (first taps) whose projections are computed: [0, computed). */
  private computed = 0;
  private readonly rnn: Projecting;
  private readonly rest: Layer[];
  private readonly stage: FrameStage;
  /** Frames one convolution output reads, and the step between a window's output frames. */
  private readonly span: number;
  private readonly stride: number;
  /** Columns of one frame's projections, and of one frame after the per-frame layers. */
  private readonly width: number;
  private readonly features: number;
  /** Window output frames [tLo, tHi) read stream positions start + j·stride − padLeft. */
  private readonly tLo: number;
  private readonly tHi: number;
  private readonly padLeft: number;
  /** Output frames of the convolution per window. */
  private readonly convFrames: number;
  /** Window output frames that read the window's zero padding. */
  private readonly edges: number[] = [];
  /** Positions held in `projections`. */
  private readonly capacity: number;
  /** Uncomputed frames in the ring beyond which `framesAdded` computes them rather than waiting for `run`. */
  private readonly backlog: number;
  // Buffers in nn's kernel memory:
  /** [queued edges · span, in]: each queued edge frame's taps, zeros where the window has no frames. */
  private readonly edgeIn: Float32Array;
  /** [rows, in]: stream frames, then the edges' taps — the per-frame layers' input for one `compute`. */
  private readonly stageIn: Float32Array;
  /** [rows, features]: the rows of the per-frame layers' output that are projected. */
  private readonly compact: Float32Array;
  /** [rows, width]: their projections. */
  private readonly projected: Float32Array;
  /** [capacity, width]: position p's projections in row p mod capacity. */
  private readonly projections: Float32Array;
  /** [maxBatch, convFrames, width]: the queued windows' projections, for the forward pass. */
  private readonly batch: Float32Array;

  /**
   * The batch for `network` over `ring`, or null when the network does not begin with conv → per-frame
   * layers → RNN. `maxFrames` bounds the frames added at once; the ring must hold inputFrames + 2·maxFrames.
   */
  static create(
    network: Sequential,
    g: NetworkGeometry,
    ring: FrameRing,
    maxBatch: number,
    maxFrames: number,
  ): ProjectedWindows | null {
    const parts = split(network);
    return parts && new ProjectedWindows(parts, g, ring, maxBatch, maxFrames);
  }

  private constructor(
    parts: NonNullable<ReturnType<typeof split>>,
    private readonly g: NetworkGeometry,
    private readonly ring: FrameRing,
    private readonly maxBatch: number,
    private readonly maxFrames: number,
  ) {
    const { conv, frameLayers, rnn, rest } = parts;
    const { inputFrames: t, numMfcc: n } = g;
    if (ring.capacity < t + 2 * maxFrames) {
      throw new RangeError(`ProjectedWindows: a ring of ${ring.capacity} frames; needs ${t + 2 * maxFrames}`);
    }
    this.rnn = rnn;
    this.rest = rest;
    this.stage = new FrameStage(conv, frameLayers, n);
    this.features = this.stage.features;
    this.span = conv.span;
    this.stride = conv.strides;
    const { padLeft, outTime } = conv.geometry(t);
    this.padLeft = padLeft;
    this.convFrames = outTime;
    // Taps of output frame j: window frames j·stride − padLeft …, span of them.
    const inside = (j: number) =>
      j * this.stride - padLeft >= 0 && j * this.stride - padLeft + this.span <= t;
    let lo = 0;
    while (lo < outTime && !inside(lo)) lo++;
    let hi = lo;
    while (hi < outTime && inside(hi)) hi++;
    this.tLo = lo;
    this.tHi = hi;
    for (let j = 0; j < outTime; j++) if (j < lo || j >= hi) this.edges.push(j);
    this.width = rnn.projectionWidth;
    this.capacity = t + maxFrames;
    this.backlog = t + maxFrames;
    this.computed = ring.frames;
    const edgeRows = maxBatch * this.edges.length;
    // One compute covers at most the positions of `capacity`, or of a backlog plus one addition, and edges.
    const positions = Math.max(this.capacity, this.backlog + maxFrames);
    const rows = positions + edgeRows;
    const k = kernels();
    this.edgeIn = k.allocateFloat32(edgeRows * this.span * n);
    this.stageIn = k.allocateFloat32((positions + this.span - 1 + edgeRows * this.span) * n);
    this.compact = k.allocateFloat32(rows * this.features);
    this.projected = k.allocateFloat32(rows * this.width);
    this.projections = k.allocateFloat32(this.capacity * this.width);
    this.batch = k.allocateFloat32(maxBatch * outTime * this.width);
  }

  hasRoomFor(count: number): boolean {
    if (count > this.maxFrames) return false;
    if (this.starts.length === 0) return true;
    // Positions up to frames + count − span may be computed; the oldest queued window needs those from its start.
    return this.ring.frames + count - this.span < this.starts[0] + this.capacity;
  }

  /** Frames wait in the ring until a window needs them, unless too many are waiting. */
  framesAdded(): void {
    if (this.ring.frames - this.computed > this.backlog) {
      this.compute(this.ring.frames - this.span + 1 - this.computed, 0);
    }
  }

  queue(start: number): void {
    if (this.starts.length === this.maxBatch) {
      throw new RangeError(`ProjectedWindows: ${this.maxBatch} windows queued`);
    }
    const { inputFrames: t, numMfcc: n } = this.g;
    if (start < this.computed - this.capacity || start + t > this.ring.frames) {
      throw new RangeError(
        `ProjectedWindows: window ${start} is not in the ring (frame ${this.ring.frames})`,
      );
    }
    const span = this.span;
    // Each edge output frame's taps, zeros where they leave the window.
    this.edges.forEach((j, e) => {
      const row = (this.starts.length * this.edges.length + e) * span * n;
      const first = j * this.stride - this.padLeft;
      const lo = Math.max(first, 0);
      const hi = Math.min(first + span, t);
      this.edgeIn.fill(0, row, row + span * n);
      if (hi > lo) this.ring.copy(this.edgeIn, row + (lo - first) * n, start + lo, hi - lo);
    });
    this.starts.push(start);
  }

  run(): Float32Array {
    const b = this.starts.length;
    const w = this.width;
    const out = this.convFrames;
    const e = this.edges.length;
    const last = this.starts[b - 1] + (this.tHi - 1) * this.stride - this.padLeft;
    const count = this.compute(Math.max(0, last + 1 - this.computed), b * e);
    // batch[i, edges[m]] = the m-th edge of window i, after the stream positions in `projected`.
    const k = kernels();
    this.edges.forEach((j, m) => {
      k.copyBlocks(this.batch, j * w, out * w, 0, this.projected, (count + m) * w, e * w, 0, b, 1, w);
    });
    for (let i = 0; i < b; i++) this.gatherInterior(i, this.starts[i]);
    let y = this.rnn.forwardProjected({ shape: [b, out, w], data: this.batch.subarray(0, b * out * w) });
    for (const layer of this.rest) y = layer.forward(y);
    this.starts.length = 0;
    // One copy out of the kernel memory: JS reads a shared wasm memory several times slower than its own.
    return (y.data as Float32Array).slice(0, b * this.g.outputFrames);
  }

  release(): void {
    this.stage.dispose();
    const k = kernels();
    for (const a of [this.edgeIn, this.stageIn, this.compact, this.projected, this.projections, this.batch]) {
      k.release(a);
    }
  }

  /**
   * One pass of the per-frame layers and the projections over the next `count` stream positions and the
   * first `edgeRows` queued edges: positions into `projections`, and `projected` holds the positions'
   * rows, then the edges'. A 'valid' convolution over stream frames followed by edge blocks of `span`
   * frames gives every position, then one output per block (at the block's first row), and between
   * them span − 1 outputs that straddle two blocks and are dropped. Returns `count`.
   */
  private compute(count: number, edgeRows: number): number {
    const n = this.g.numMfcc;
    const span = this.span;
    const f = this.features;
    const w = this.width;
    const streamRows = count > 0 ? count + span - 1 : 0;
    if (count > 0) this.ring.copy(this.stageIn, 0, this.computed, streamRows);
    this.stageIn.set(this.edgeIn.subarray(0, edgeRows * span * n), streamRows * n);
    const rows = streamRows + edgeRows * span;
    if (rows === 0) return 0;
    const y = this.stage.forward({ shape: [1, rows, n], data: this.stageIn.subarray(0, rows * n) }).data;
    const k = kernels();
    k.copyBlocks(this.compact, 0, 0, f, y, 0, 0, f, 1, count, f);
    k.copyBlocks(this.compact, count * f, 0, f, y, streamRows * f, 0, span * f, 1, edgeRows, f);
    const total = count + edgeRows;
    const x = { shape: [1, total, f], data: this.compact.subarray(0, total * f) };
    this.rnn.projectInput({ shape: [1, total, w], data: this.projected.subarray(0, total * w) }, x);
    const slot = this.computed % this.capacity;
    const first = Math.min(count, this.capacity - slot);
    this.projections.set(this.projected.subarray(0, first * w), slot * w);
    this.projections.set(this.projected.subarray(first * w, count * w), 0);
    this.computed += count;
    return count;
  }

  /** batch[i, j] = projections of position start + j·stride − padLeft for the interior frames j. */
  private gatherInterior(i: number, start: number): void {
    const w = this.width;
    const s = this.stride;
    let j = this.tLo;
    while (j < this.tHi) {
      const p = start + j * s - this.padLeft;
      const slot = p % this.capacity;
      // Frames up to the end of the ring in one strided copy, the rest from its beginning.
      const count = Math.min(this.tHi - j, Math.ceil((this.capacity - slot) / s));
      const dst = (i * this.convFrames + j) * w;
      kernels().copyBlocks(this.batch, dst, 0, w, this.projections, slot * w, 0, s * w, 1, count, w);
      j += count;
    }
  }
}
