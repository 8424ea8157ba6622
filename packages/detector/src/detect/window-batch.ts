/**
 * How the streaming detector turns windows of MFCC frames into posteriors: the recent frames in a ring,
 * and a batch of queued windows that one forward pass evaluates. `WholeWindows` copies each window out of
 * the ring and runs the whole network on it — it works for any network; `ProjectedWindows`
 * (projected-windows.ts) shares the per-frame layers between overlapping windows.
 */
import { kernels, type Sequential } from '@kws/nn';
import type { NetworkGeometry } from '../model/model-file.ts';

/** The last `capacity` frames of a stream, each `n` values: frame a lives in slot a mod capacity. */
export class FrameRing {
  readonly data: Float32Array;
  /** Frames appended so far. */
  frames = 0;

  constructor(
    readonly capacity: number,
    readonly n: number,
  ) {
    this.data = new Float32Array(capacity * n);
  }

  /** Appends frames [from, to) of `src` ([*, n] row-major); at most `capacity` at once. */
  append(src: Float32Array, from: number, to: number): void {
    const count = to - from;
    if (count > this.capacity) throw new RangeError(`FrameRing: ${count} frames exceed its ${this.capacity}`);
    const n = this.n;
    const slot = this.frames % this.capacity;
    const first = Math.min(count, this.capacity - slot);
    this.data.set(src.subarray(from * n, (from + first) * n), slot * n);
    this.data.set(src.subarray((from + first) * n, to * n), 0);
    this.frames += count;
  }

  /** dst[dOff …] = frames [start, start + count), which must be among the last `capacity` appended. */
  copy(dst: Float32Array, dOff: number, start: number, count: number): void {
    if (start < this.frames - this.capacity || start + count > this.frames) {
      throw new RangeError(
        `FrameRing: frames ${start}…${start + count - 1} are not among the ${this.capacity} before frame ${this.frames}`,
      );
    }
    const n = this.n;
    const slot = start % this.capacity;
    const first = Math.min(count, this.capacity - slot);
    dst.set(this.data.subarray(slot * n, (slot + first) * n), dOff);
    dst.set(this.data.subarray(0, (count - first) * n), dOff + first * n);
  }
}

/** Windows queued for one forward pass. Every queued window's frames are in the ring when it is queued. */
export interface WindowBatch {
  /** First frames of the queued windows, in queue order. */
  readonly starts: readonly number[];
  /** Whether `count` more frames may enter the ring without losing what the queued windows still need. */
  hasRoomFor(count: number): boolean;
  /** Queues the window of frames [start, start + inputFrames), all in the ring. */
  queue(start: number): void;
  /** Posteriors of the queued windows, [starts.length, outputFrames] (a JS copy); empties the queue. */
  run(): Float32Array;
  /** Gives kernel memory back; the batch must not be used afterwards. */
  release(): void;
}

/** Each window copied whole out of the ring, and the whole network run on the batch. */
export class WholeWindows implements WindowBatch {
  readonly starts: number[] = [];
  /** [maxBatch, inputFrames, numMfcc] in nn's kernel memory, so the first layer reads the windows in place. */
  private readonly pending: Float32Array;

  constructor(
    private readonly network: Sequential,
    private readonly g: NetworkGeometry,
    private readonly ring: FrameRing,
    private readonly maxBatch: number,
  ) {
    this.pending = kernels().allocateFloat32(maxBatch * g.inputFrames * g.numMfcc);
  }

  hasRoomFor(): boolean {
    return true;
  }

  queue(start: number): void {
    if (this.starts.length === this.maxBatch)
      throw new RangeError(`WholeWindows: ${this.maxBatch} windows queued`);
    const { inputFrames: t, numMfcc: n } = this.g;
    this.ring.copy(this.pending, this.starts.length * t * n, start, t);
    this.starts.push(start);
  }

  run(): Float32Array {
    const batch = this.starts.length;
    const { inputFrames: t, numMfcc: n, outputFrames: o } = this.g;
    const y = this.network.forward({ shape: [batch, t, n], data: this.pending.subarray(0, batch * t * n) });
    this.starts.length = 0;
    // One copy out of the kernel memory: JS reads a shared wasm memory several times slower than its own.
    return (y.data as Float32Array).slice(0, batch * o);
  }

  /** Drops the queued windows unrun (ProjectedWindows ran them its own way). */
  discard(): void {
    this.starts.length = 0;
  }

  release(): void {
    kernels().release(this.pending);
  }
}
