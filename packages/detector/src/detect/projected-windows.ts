/**
 * Windows that overlap share their per-frame work. The detector network begins Conv1D → per-frame layers
 * (BatchNormalization, ReLU) → Bidirectional(LSTM), and the LSTM's input projections x_t · kernel + bias
 * (both directions) depend on x_t alone. So an output frame of the convolution whose taps all lie inside
 * the window depends only on which stream frames those taps read, not on the window: this batch computes
 * conv → per-frame layers → projections once per stream position p (taps on frames p, p + dilation, …),
 * with a 'valid' copy of the convolution run over each phase of its stride (with an odd hop, consecutive
 * windows read positions of alternating phases). Per window only the recurrences and the layers after
 * them run (`Bidirectional.forwardProjected`).
 *
 * Output frames whose taps reach past the window's edges read the window's zero padding there, which no
 * stream position has: they are computed per window exactly as the window alone computes them, from
 * `span` frames with zeros where the window has none. Audio shorter than a window reaches the batch with
 * silence frames appended (what the window would be padded with), so every window is a run of frames.
 *
 * This pays, a little, for one window per forward pass — a live stream's pushes: ≈ 3 % of the network's
 * time per window, measured (BENCHMARKS.md). A batch of several windows runs whole (`WholeWindows`, queued alongside): its GEMMs over whole
 * windows are efficient enough that copying projections in and out of the per-position store costs about
 * what it saves. Positions are computed when a window run here needs them, per phase of
 * the convolution, so runs of either kind may alternate.
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
import type { FrameRing, WholeWindows, WindowBatch } from './window-batch.ts';

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

/**
 * Conv1D (with 'valid' padding) and the per-frame layers after it, with their own buffers, and
 * scratch space for one call: what every detector over one network can share, since each uses it only
 * within a call (a detector is made per clip by evaluation, so making these once matters).
 */
class SharedStage {
  private readonly layers: Layer[];
  private readonly originals: Layer[];
  /** Values per frame of the output. */
  readonly features: number;
  // Scratch in nn's kernel memory, grown on demand:
  /** [rows, in]: stream frames, then edge taps — the per-frame layers' input for one pass. */
  stageIn: Float32Array;
  /** [rows, features]: the rows of the per-frame layers' output that are projected. */
  compact: Float32Array;
  /** [rows, width]: their projections. */
  projected: Float32Array;
  /** [windows, convFrames, width]: the windows' projections, for the forward pass. */
  batch: Float32Array;
  /** Buffers detectors gave back, for the next ones. */
  private readonly spare: Float32Array[] = [];

  constructor(conv: Conv1D, frameLayers: readonly Layer[], inChannels: number) {
    const clone = (layer: Layer, config: Record<string, unknown>) =>
      layerFromSpec({ class_name: layer.className, config }, { dtype: layer.dtype });
    this.layers = [
      clone(conv, { ...conv.getConfig(), padding: 'valid' }),
      ...frameLayers.map((l) => clone(l, l.getConfig())),
    ];
    this.originals = [conv, ...frameLayers];
    let shape = [conv.span, inChannels];
    for (const layer of this.layers) shape = layer.build(shape);
    this.features = shape[shape.length - 1];
    const k = kernels();
    this.stageIn = k.allocateFloat32(0);
    this.compact = k.allocateFloat32(0);
    this.projected = k.allocateFloat32(0);
    this.batch = k.allocateFloat32(0);
  }

  /** The per-frame layers of `network` for detectors made now: its current weights. */
  static of(
    network: Sequential,
    conv: Conv1D,
    frameLayers: readonly Layer[],
    inChannels: number,
  ): SharedStage {
    const originals = [conv, ...frameLayers];
    let shared = sharedStages.get(network);
    if (!shared || shared.originals.some((l, i) => l !== originals[i])) {
      shared = new SharedStage(conv, frameLayers, inChannels);
      sharedStages.set(network, shared);
    }
    shared.layers.forEach((layer, i) => {
      layer.weights.forEach((w, j) => {
        w.value.set(shared.originals[i].weights[j].value);
      });
    });
    return shared;
  }

  /** [batch, frames, in] → [batch, ⌊(frames − span) / stride⌋ + 1, features]. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y);
    return y;
  }

  /**
   * A buffer of at least `length` floats for one detector's own state, from those detectors gave back
   * (its contents are stale), else new: a detector per clip then allocates nothing in the kernel memory.
   */
  take(length: number): Float32Array {
    const i = this.spare.findIndex((a) => a.length >= length);
    return i >= 0 ? this.spare.splice(i, 1)[0] : kernels().allocateFloat32(length);
  }

  /** Takes back what `take` gave. */
  giveBack(...buffers: Float32Array[]): void {
    this.spare.push(...buffers);
  }

  /** Grows the scratch to hold `stageIn`, `compact`, `projected` and `batch` values. */
  reserve(stageIn: number, compact: number, projected: number, batch: number): void {
    const k = kernels();
    const grow = (a: Float32Array, n: number) => {
      if (a.length >= n) return a;
      k.release(a);
      return k.allocateFloat32(n);
    };
    this.stageIn = grow(this.stageIn, stageIn);
    this.compact = grow(this.compact, compact);
    this.projected = grow(this.projected, projected);
    this.batch = grow(this.batch, batch);
  }
}

/** One SharedStage per network, for as long as the network lives. */
const sharedStages = new WeakMap<Sequential, SharedStage>();

export class ProjectedWindows implements WindowBatch {
  readonly starts: number[] = [];
  /** Per phase φ < stride: the next stream position ≡ φ (mod stride) whose projections are not computed. */
  private readonly next: number[];
  private readonly rnn: Projecting;
  private readonly rest: Layer[];
  private readonly stage: SharedStage;
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
  // In nn's kernel memory:
  /** [queued edges · span, in]: each queued edge frame's taps, zeros where the window has no frames. */
  private readonly edgeIn: Float32Array;
  /** [capacity, width]: position p's projections in row p mod capacity. */
  private readonly projections: Float32Array;

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
    whole: WholeWindows,
  ): ProjectedWindows | null {
    const parts = split(network);
    if (!parts) return null;
    const stage = SharedStage.of(network, parts.conv, parts.frameLayers, g.numMfcc);
    return new ProjectedWindows(parts, stage, g, ring, maxBatch, maxFrames, whole);
  }

  private constructor(
    parts: NonNullable<ReturnType<typeof split>>,
    stage: SharedStage,
    private readonly g: NetworkGeometry,
    private readonly ring: FrameRing,
    private readonly maxBatch: number,
    private readonly maxFrames: number,
    private readonly whole: WholeWindows,
  ) {
    const { conv, rnn, rest } = parts;
    const { inputFrames: t, numMfcc: n } = g;
    if (ring.capacity < t + 2 * maxFrames) {
      throw new RangeError(`ProjectedWindows: a ring of ${ring.capacity} frames; needs ${t + 2 * maxFrames}`);
    }
    this.rnn = rnn;
    this.rest = rest;
    this.stage = stage;
    this.features = this.stage.features;
    this.span = conv.span;
    this.stride = conv.strides;
    this.next = Array.from({ length: this.stride }, (_, phase) => phase);
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
    this.edgeIn = stage.take(maxBatch * this.edges.length * this.span * n);
    this.projections = stage.take(this.capacity * this.width);
  }

  hasRoomFor(count: number): boolean {
    if (count > this.maxFrames) return false;
    if (this.starts.length === 0) return true;
    // Positions up to frames + count − span may be computed; the oldest queued window needs those from its
    // start on, and its frames (which the ring, longer than `capacity`, then still holds).
    return this.ring.frames + count - this.span < this.starts[0] + this.capacity;
  }

  queue(start: number): void {
    if (this.starts.length === this.maxBatch) {
      throw new RangeError(`ProjectedWindows: ${this.maxBatch} windows queued`);
    }
    const { inputFrames: t, numMfcc: n } = this.g;
    if (
      start + t > this.ring.frames ||
      (this.starts.length > 0 && start < this.starts[this.starts.length - 1])
    ) {
      throw new RangeError(
        `ProjectedWindows: window ${start} is not a window of the ring's ${this.ring.frames} frames after the queued ones`,
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
    this.whole.queue(start);
  }

  run(): Float32Array {
    const b = this.starts.length;
    if (b > 1) {
      this.starts.length = 0;
      return this.whole.run();
    }
    this.whole.discard();
    const w = this.width;
    const out = this.convFrames;
    const e = this.edges.length;
    const stage = this.stage;
    stage.reserve(0, 0, 0, b * out * w);
    const positions = this.compute();
    // batch[i, edges[m]] = the m-th edge of window i, after the stream positions in `projected`.
    const k = kernels();
    this.edges.forEach((j, m) => {
      k.copyBlocks(stage.batch, j * w, out * w, 0, stage.projected, (positions + m) * w, e * w, 0, b, 1, w);
    });
    // batch[i, j] = projections of position start + j·stride − padLeft for the interior frames j.
    for (let i = 0; i < b; i++) {
      const first = this.starts[i] + this.tLo * this.stride - this.padLeft;
      this.ringRows(first, this.tHi - this.tLo, (slot, j, count) => {
        const dst = (i * out + this.tLo + j) * w;
        k.copyBlocks(stage.batch, dst, 0, w, this.projections, slot * w, 0, this.stride * w, 1, count, w);
      });
    }
    let y = this.rnn.forwardProjected({ shape: [b, out, w], data: stage.batch.subarray(0, b * out * w) });
    for (const layer of this.rest) y = layer.forward(y);
    this.starts.length = 0;
    // One copy out of the kernel memory: JS reads a shared wasm memory several times slower than its own.
    return (y.data as Float32Array).slice(0, b * this.g.outputFrames);
  }

  /** Hands this batch's buffers to the next detector over the network (the stage keeps them meanwhile). */
  release(): void {
    this.stage.giveBack(this.edgeIn, this.projections);
    this.whole.release();
  }

  /**
   * One pass of the per-frame layers and the projections over the stream positions the queued windows need
   * and nothing computed yet, phase by phase, and over the queued windows' edges; the positions' projections
   * go to `projections`, and the stage's `projected` holds their rows, then the edges'. Returns how many
   * positions that was.
   *
   * The stage's convolution is the network's, with 'valid' padding: over frames p, p + 1, … starting at a
   * row that is a multiple of the stride it gives positions p, p + stride, …; so the input is one run of
   * frames per phase, then every edge's `span` taps, each at such a row, and the outputs in between
   * (reading across two runs) are dropped.
   */
  private compute(): number {
    const n = this.g.numMfcc;
    const { span, stride: s } = this;
    const f = this.features;
    const w = this.width;
    const edgeRows = this.starts.length * this.edges.length;
    // Per phase: the positions [from, from + count·s) to compute, and where their run starts in the input.
    const runs: { phase: number; from: number; count: number; row: number }[] = [];
    let rows = 0;
    const align = (r: number) => Math.ceil(r / s) * s;
    for (let phase = 0; phase < s; phase++) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const start of this.starts) {
        const first = start + this.tLo * s - this.padLeft;
        if (((first % s) + s) % s !== phase || this.tHi <= this.tLo) continue;
        lo = Math.min(lo, first);
        hi = Math.max(hi, first + (this.tHi - this.tLo - 1) * s);
      }
      // Positions before the earliest queued window's are never needed again.
      const from = Math.max(this.next[phase], lo);
      if (hi < from) continue;
      const count = (hi - from) / s + 1;
      rows = align(rows);
      runs.push({ phase, from, count, row: rows });
      rows += (count - 1) * s + span;
    }
    const edgeStep = align(span);
    const edgeRow = align(rows);
    if (edgeRows > 0) rows = edgeRow + (edgeRows - 1) * edgeStep + span;
    const positions = runs.reduce((sum, r) => sum + r.count, 0);
    const total = positions + edgeRows;
    if (total === 0) return 0;
    const stage = this.stage;
    stage.reserve(rows * n, total * f, total * w, 0);
    const k = kernels();
    for (const r of runs) this.ring.copy(stage.stageIn, r.row * n, r.from, (r.count - 1) * s + span);
    k.copyBlocks(
      stage.stageIn,
      edgeRow * n,
      0,
      edgeStep * n,
      this.edgeIn,
      0,
      0,
      span * n,
      1,
      edgeRows,
      span * n,
    );
    const y = stage.forward({ shape: [1, rows, n], data: stage.stageIn.subarray(0, rows * n) }).data;
    // The rows to project, compacted: each run's outputs, then one per edge.
    let to = 0;
    for (const r of runs) {
      k.copyBlocks(stage.compact, to * f, 0, f, y, (r.row / s) * f, 0, f, 1, r.count, f);
      to += r.count;
    }
    k.copyBlocks(stage.compact, to * f, 0, f, y, (edgeRow / s) * f, 0, (edgeStep / s) * f, 1, edgeRows, f);
    const x = { shape: [1, total, f], data: stage.compact.subarray(0, total * f) };
    this.rnn.projectInput({ shape: [1, total, w], data: stage.projected.subarray(0, total * w) }, x);
    let row = 0;
    for (const r of runs) {
      this.ringRows(r.from, r.count, (slot, j, count) => {
        k.copyBlocks(this.projections, slot * w, 0, s * w, stage.projected, (row + j) * w, 0, w, 1, count, w);
      });
      row += r.count;
      this.next[r.phase] = r.from + r.count * s;
    }
    return positions;
  }

  /**
   * Splits positions first, first + stride, … (count of them) where `projections` wraps: visit(slot of the
   * chunk's first position, index of that position among the count, positions in the chunk).
   */
  private ringRows(
    first: number,
    count: number,
    visit: (slot: number, index: number, n: number) => void,
  ): void {
    const s = this.stride;
    let j = 0;
    while (j < count) {
      const slot = (first + j * s) % this.capacity;
      const n = Math.min(count - j, Math.ceil((this.capacity - slot) / s));
      visit(slot, j, n);
      j += n;
    }
  }
}
