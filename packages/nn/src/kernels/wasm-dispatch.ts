/**
 * Where the wasm kernel wrappers send their calls: straight to the module's exports, or — while
 * `concurrently` records its second task — into the call list of the kernel worker thread
 * (`wasm-thread.ts`), which then runs it at the same time as the first task runs here.
 *
 * Each thread has its own scratch space (GEMM panels, lstmBackward's transposed recurrent kernel): `space`
 * is the one of the thread the calls being issued will run on. Work the recorder cannot defer — a TS
 * fallback, an operand staged through the heap — first runs what was recorded so far, here, in order
 * (`flush`), so the recorded list and that work never reorder.
 */
import type { Kernels } from './kernels.ts';
import { type Exports, KERNEL_NAMES } from './wasm-exports.ts';
import type { WasmHeap } from './wasm-heap.ts';
import { KernelThread, MAX_CALL_WORDS } from './wasm-thread.ts';

/** Per-thread kernel space. Held here: the heap frees a block whose view is garbage-collected. */
export interface ThreadSpace {
  scratch: Float32Array;
  transposed: Float32Array | null;
}

export class KernelDispatch {
  /** Where kernel calls go now: the exports, or the recorder. */
  target: Exports;
  /** The scratch space of the thread the calls now issued will run on. */
  space: ThreadSpace;
  /** How many `concurrently` calls ran their second task on the worker. */
  tasks = 0;
  private readonly mainSpace: ThreadSpace;
  private workerSpace: ThreadSpace | null = null;
  private thread: KernelThread | null = null;
  private readonly recorder: Exports;
  private recorded = 0;
  private words = 1;

  /**
   * @param threads 2 to run `concurrently`'s second task on a worker, 1 for everything on this thread
   * @param minWork multiply-adds per task below which the hand-off does not pay
   */
  constructor(
    private readonly exports: Exports,
    private readonly heap: WasmHeap,
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly threads: 1 | 2,
    private readonly minWork: number,
  ) {
    this.target = exports;
    this.mainSpace = this.newSpace();
    this.space = this.mainSpace;
    this.recorder = Object.fromEntries(
      KERNEL_NAMES.map((name, index) => [name, (...args: number[]) => this.record(index, args)]),
    ) as unknown as Exports;
  }

  /** Whether the worker is ready to take a task (it starts in the background on first use). */
  get threadReady(): boolean {
    return this.thread?.ready ?? false;
  }

  /** Starts the worker if there is none and waits up to `timeoutMs` for it; false when threads is 1. */
  waitForThread(timeoutMs: number): boolean {
    if (this.threads < 2) return false;
    this.startThread();
    const until = Date.now() + timeoutMs;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (!this.thread!.ready && Date.now() < until) Atomics.wait(nap, 0, 0, 5);
    return this.thread!.ready;
  }

  /** Room for `floats` floats of transposed recurrent kernel on the current thread, grown on demand. */
  transposeSpace(floats: number): number {
    const space = this.space;
    if (!space.transposed || space.transposed.length < floats) {
      if (space.transposed) this.heap.release(space.transposed);
      space.transposed = this.heap.allocate(floats);
    }
    return space.transposed.byteOffset;
  }

  /** Runs what was recorded so far, here and in order, before work that cannot be recorded. */
  flush(): void {
    if (this.target !== this.recorder || this.recorded === 0) return;
    const calls = this.thread!.calls;
    for (let i = 1, c = 0; c < this.recorded; c++) {
      const fn = this.exports[KERNEL_NAMES[calls[i++]]] as (...a: number[]) => void;
      const argc = calls[i++];
      fn(...calls.subarray(i, i + argc));
      i += argc;
    }
    this.recorded = 0;
    this.words = 1;
  }

  /** `Kernels.concurrently`. */
  readonly concurrently: Kernels['concurrently'] = (first, second, work) => {
    const worker = work >= this.minWork ? this.startThread() : null;
    if (!worker) {
      first();
      second();
      return;
    }
    this.target = this.recorder;
    this.space = this.workerSpace!;
    try {
      second();
    } catch (e) {
      this.recorded = 0;
      this.words = 1;
      throw e;
    } finally {
      this.target = this.exports;
      this.space = this.mainSpace;
    }
    if (this.recorded === 0) {
      first();
      return;
    }
    worker.calls[0] = this.recorded;
    this.recorded = 0;
    this.words = 1;
    worker.start();
    this.tasks++;
    try {
      first();
    } finally {
      // Even when `first` threw: the worker is writing into memory the caller is about to see.
      worker.wait();
    }
  };

  private record(index: number, args: number[]): void {
    if (this.words + 2 + args.length > MAX_CALL_WORDS) this.flush();
    const calls = this.thread!.calls;
    calls[this.words++] = index;
    calls[this.words++] = args.length;
    for (const a of args) calls[this.words++] = a;
    this.recorded++;
  }

  private newSpace(): ThreadSpace {
    return { scratch: this.heap.allocate(this.exports.gemm_scratch_floats()), transposed: null };
  }

  private startThread(): KernelThread | null {
    if (this.threads < 2) return null;
    if (!this.thread) {
      this.thread = new KernelThread(this.module, this.memory, KERNEL_NAMES);
      this.workerSpace = this.newSpace();
    }
    return this.thread.ready ? this.thread : null;
  }
}
