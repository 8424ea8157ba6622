/**
 * The float32 heap of the wasm backend: blocks of one shared WebAssembly.Memory handed out as Float32Array
 * views, so layer buffers, weights and workspaces live where the kernels compute and no product copies.
 *
 * Why the memory is *shared*: growing an ordinary wasm memory detaches its ArrayBuffer, and with it every
 * Float32Array a layer holds. A shared memory's growth never detaches anything — each growth gives a new,
 * longer SharedArrayBuffer and the older ones stay valid views of the same bytes — so a view taken before
 * a growth keeps working after it and the heap can grow on demand. (It is also what lets worker threads
 * run kernels on the same buffers.)
 *
 * Blocks are 64-byte aligned (one cache line; every SIMD load is aligned to its vector at least) and
 * zero-filled like `new Float32Array(n)`. Free ranges are kept sorted and coalesced, and the last one is
 * given back to the bump region. A block is freed by `release` (layers' `dispose()`), or, as a safety net,
 * when its view is garbage-collected (a FinalizationRegistry): a subarray alone does not keep a block
 * alive, which matches the Layer contract that callers copy outputs they keep.
 */
import type { FloatArray } from '../tensor.ts';

export const WASM_PAGE_BYTES = 65536;
const ALIGN = 64;

export class WasmHeapError extends Error {
  override name = 'WasmHeapError';
}

export interface WasmHeapStats {
  /** Blocks handed out since the heap was made (a counter: steady-state training must not move it). */
  allocations: number;
  /** Bytes in blocks handed out and not yet freed. */
  liveBytes: number;
  liveBlocks: number;
  /** Bytes in freed ranges below the bump pointer, ready for reuse. */
  freeBytes: number;
  /** Current size of the wasm memory. */
  memoryBytes: number;
}

interface Block {
  size: number;
  /** Distinguishes successive owners of the same address, so a stale finalizer frees nothing. */
  id: number;
}

export class WasmHeap {
  private readonly buffers = new Set<ArrayBufferLike>();
  private buffer: ArrayBufferLike;
  /** First byte never handed out (the bump region starts here). */
  private top: number;
  /** Highest `top` so far: bytes above it were never written and are still zero. */
  private highWater: number;
  /** Freed ranges below `top`, sorted by start and coalesced: [start0, size0, start1, size1, …]. */
  private readonly free: number[] = [];
  private readonly live = new Map<number, Block>();
  private nextId = 1;
  private allocations = 0;
  private readonly finalizer = new FinalizationRegistry<{ start: number; id: number }>(({ start, id }) => {
    if (this.live.get(start)?.id === id) this.freeBlock(start);
  });

  /**
   * @param base first usable byte (the module's `__heap_base`)
   * @param maxBytes the memory's maximum size in bytes
   */
  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    readonly maxBytes: number,
  ) {
    this.buffer = memory.buffer;
    this.buffers.add(this.buffer);
    this.top = alignUp(base);
    this.highWater = this.top;
  }

  /** Whether `a` is a view of this heap's memory (of any of its sizes). */
  owns(a: ArrayBufferView): boolean {
    return this.buffers.has(a.buffer);
  }

  /** A zero-filled Float32Array of `length` elements in the wasm memory. */
  allocate(length: number): Float32Array {
    if (!Number.isInteger(length) || length < 0) {
      throw new WasmHeapError(`allocate: length must be an integer >= 0; received ${length}`);
    }
    const size = Math.max(ALIGN, alignUp(length * 4));
    const start = this.take(size);
    const id = this.nextId++;
    this.allocations++;
    this.live.set(start, { size, id });
    const view = new Float32Array(this.buffer, start, length);
    if (start < this.highWater) view.fill(0);
    this.highWater = Math.max(this.highWater, this.top);
    this.finalizer.register(view, { start, id }, view);
    return view;
  }

  /**
   * Frees the block behind `a`, which must be a view returned by `allocate` (not a subarray of one); the
   * array must not be used afterwards. Arrays that are not in this heap (float64, plain Float32Arrays) are
   * ignored, so callers can release whatever they hold.
   */
  release(a: FloatArray): void {
    if (!this.owns(a)) return;
    const block = this.live.get(a.byteOffset);
    if (!block || a.byteLength > block.size) {
      throw new WasmHeapError(
        `release: the array at byte ${a.byteOffset} (${a.length} floats) is not a live block of the wasm heap ` +
          '(released twice, or a subarray of a block)',
      );
    }
    this.finalizer.unregister(a);
    this.freeBlock(a.byteOffset);
  }

  get stats(): WasmHeapStats {
    let liveBytes = 0;
    for (const b of this.live.values()) liveBytes += b.size;
    let freeBytes = 0;
    for (let i = 1; i < this.free.length; i += 2) freeBytes += this.free[i];
    return {
      allocations: this.allocations,
      liveBytes,
      liveBlocks: this.live.size,
      freeBytes,
      memoryBytes: this.memory.buffer.byteLength,
    };
  }

  /** First fit in the free list, else the bump region (growing the memory when it has to). */
  private take(size: number): number {
    const free = this.free;
    for (let i = 0; i < free.length; i += 2) {
      if (free[i + 1] >= size) {
        const start = free[i];
        if (free[i + 1] === size) free.splice(i, 2);
        else {
          free[i] += size;
          free[i + 1] -= size;
        }
        return start;
      }
    }
    const start = this.top;
    const end = start + size;
    if (end > this.buffer.byteLength) this.grow(end);
    this.top = end;
    return start;
  }

  /** Grows the memory to hold `end` bytes: at least doubling, so n allocations cost O(log n) growths. */
  private grow(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > this.maxBytes) {
      const stats = this.stats;
      throw new WasmHeapError(
        `wasm heap: cannot allocate ${end - this.top} bytes: the memory would need ${mb(end)} MB but its ` +
          `maximum is ${mb(this.maxBytes)} MB (${mb(stats.liveBytes)} MB in ${stats.liveBlocks} live blocks, ` +
          `${mb(stats.freeBytes)} MB free but fragmented); dispose() models you no longer use`,
      );
    }
    const want = Math.min(this.maxBytes, Math.max(end, 2 * have));
    this.memory.grow(Math.ceil((want - have) / WASM_PAGE_BYTES));
    this.buffer = this.memory.buffer;
    this.buffers.add(this.buffer);
  }

  private freeBlock(start: number): void {
    const block = this.live.get(start);
    if (!block) return;
    this.live.delete(start);
    let s = start;
    let size = block.size;
    const free = this.free;
    // Insert in order, merging with the neighbours it touches.
    let i = 0;
    while (i < free.length && free[i] < s) i += 2;
    if (i > 0 && free[i - 2] + free[i - 1] === s) {
      i -= 2;
      s = free[i];
      size += free[i + 1];
      free.splice(i, 2);
    }
    if (i < free.length && s + size === free[i]) {
      size += free[i + 1];
      free.splice(i, 2);
    }
    if (s + size === this.top) this.top = s;
    else free.splice(i, 0, s, size);
  }
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}
