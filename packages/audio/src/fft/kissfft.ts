/**
 * kissfft-wasm 1.1.2 behind the `BatchRealFft` interface, loaded once per process.
 *
 * Two loader quirks are fixed here (DESIGN §7):
 * - Its Emscripten loader prefers `globalThis.fetch` when it exists and then fails on the `file:` path
 *   ("Failed to parse URL"), so `fetch` is hidden until `waitLoading()` resolves and then put back exactly
 *   as it was (same property descriptor).
 * - Loading installs process-wide `uncaughtException` (rethrows) and `unhandledRejection` (calls Emscripten's
 *   `abort`, which turns any stray rejection anywhere in the process into a wasm abort) handlers. Those are
 *   removed again right after the module is required, so an application's own error handling is untouched.
 *
 * The module is required with top-level await so that `mfcc()` can stay synchronous for its callers.
 */
import { createRequire } from 'node:module';
import { type BatchRealFft, checkCount, checkFftArgs, outputStride } from './fft.ts';

/** The part of kissfft-wasm's Emscripten module this file uses. */
interface KissWasm {
  HEAPF32: Float32Array;
  HEAP32: Int32Array;
  /** The instance's exports: its memory and functions under minified names. */
  asm: Record<string, unknown>;
  _kiss_fftr(cfg: number, timedata: number, freqdata: number): void;
  _kiss_fft(cfg: number, fin: number, fout: number): void;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

interface KissRealFftConfig {
  readonly pointer: number;
  readonly nfft: number;
  free(): void;
}

interface KissModule {
  RealFFTConfig: new (nfft: number) => KissRealFftConfig;
}

interface KissWasmLoader {
  readonly wasm: KissWasm;
  waitLoading(): Promise<void>;
}

const HANDLER_EVENTS = ['uncaughtException', 'unhandledRejection'];
/** `process` as a plain emitter: its typed overloads do not accept the two event names as one union. */
const emitter: NodeJS.EventEmitter = process;

async function loadKissFft(): Promise<{ kiss: KissModule; wasm: KissWasm }> {
  const require = createRequire(import.meta.url);
  const fetchDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  const listenersBefore = HANDLER_EVENTS.map((event) => new Set(emitter.listeners(event)));
  if (fetchDescriptor) Reflect.deleteProperty(globalThis, 'fetch');
  try {
    const loader = require('kissfft-wasm/lib/wasm') as KissWasmLoader;
    const kiss = require('kissfft-wasm') as KissModule;
    HANDLER_EVENTS.forEach((event, i) => {
      for (const listener of emitter.listeners(event)) {
        if (!listenersBefore[i].has(listener)) emitter.removeListener(event, listener as () => void);
      }
    });
    await loader.waitLoading();
    return { kiss, wasm: loader.wasm };
  } finally {
    if (fetchDescriptor) Object.defineProperty(globalThis, 'fetch', fetchDescriptor);
  }
}

const { kiss, wasm } = await loadKissFft();

const F32 = Float32Array.BYTES_PER_ELEMENT;

/**
 * kissfft-wasm's instance, for wasm code that runs inside it (src/mfcc/wasm-plan.ts): its memory, its raw
 * `kiss_fft` export (callable from another module without a trip through JavaScript), its allocator and
 * its real-FFT configs. Heap views must be re-read after any allocation (memory may have grown).
 */
export interface KissInstance {
  memory: WebAssembly.Memory;
  kissFft: (cfg: number, fin: number, fout: number) => void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  heapF32(): Float32Array;
  heapI32(): Int32Array;
  /** A kissfft `RealFFTConfig` for length n; its `pointer` is the `kiss_fftr_cfg`. */
  realFftConfig(n: number): { readonly pointer: number; free(): void };
}

function kissInstance(): KissInstance {
  const memory = Object.values(wasm.asm).find((value) => value instanceof WebAssembly.Memory);
  // Emscripten's glue binds `_kiss_fft` lazily: the first call through it replaces the property with the
  // raw wasm export. Make that call (a 1-point complex FFT, the sub-state of a 2-point real config), then
  // insist on getting the export itself.
  const config = new kiss.RealFFTConfig(2);
  const buffer = wasm._malloc(4 * F32);
  wasm._kiss_fft(wasm.HEAP32[config.pointer / 4], buffer, buffer + 2 * F32);
  wasm._free(buffer);
  config.free();
  const kissFft = wasm._kiss_fft;
  if (!(memory instanceof WebAssembly.Memory) || !Object.values(wasm.asm).includes(kissFft)) {
    throw new Error(
      'kissfft-wasm no longer exposes its memory and raw kiss_fft export (expected version 1.1.2)',
    );
  }
  return {
    memory,
    kissFft,
    malloc: (bytes) => {
      const ptr = wasm._malloc(bytes);
      if (ptr === 0) throw new RangeError(`kissfft-wasm could not allocate ${bytes} bytes`);
      return ptr;
    },
    free: (ptr) => wasm._free(ptr),
    heapF32: () => wasm.HEAPF32,
    heapI32: () => wasm.HEAP32,
    realFftConfig: (n) => new kiss.RealFFTConfig(n),
  };
}

export const kissfft: KissInstance = kissInstance();

/**
 * One kissfft real-FFT config and two wasm-heap buffers, [batch, N] in and [batch, N + 2] out, allocated once.
 * kissfft writes N / 2 + 1 complex bins; frames are laid out back to back with that stride.
 */
class KissBatchRealFft implements BatchRealFft {
  readonly size: number;
  readonly batch: number;
  private readonly config: KissRealFftConfig;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private heap: ArrayBufferLike | undefined;
  private inView: Float32Array = new Float32Array(0);
  private outView: Float32Array = new Float32Array(0);

  constructor(size: number, batch: number) {
    checkFftArgs(size, batch);
    this.size = size;
    this.batch = batch;
    this.config = new kiss.RealFFTConfig(size);
    this.inPtr = wasm._malloc(batch * size * F32);
    this.outPtr = wasm._malloc(batch * outputStride(size) * F32);
    if (this.inPtr === 0 || this.outPtr === 0) {
      throw new RangeError(`kissfft-wasm could not allocate buffers for ${batch} frames of ${size} samples`);
    }
    this.refreshViews();
    this.inView.fill(0);
  }

  /** Malloc elsewhere may grow wasm memory, which detaches every typed-array view of the old buffer. */
  private refreshViews(): void {
    const heap = wasm.HEAPF32;
    if (heap.buffer === this.heap) return;
    this.heap = heap.buffer;
    const inStart = this.inPtr / F32;
    const outStart = this.outPtr / F32;
    this.inView = heap.subarray(inStart, inStart + this.batch * this.size);
    this.outView = heap.subarray(outStart, outStart + this.batch * outputStride(this.size));
  }

  input(): Float32Array {
    this.refreshViews();
    return this.inView;
  }

  output(): Float32Array {
    this.refreshViews();
    return this.outView;
  }

  transform(count: number): void {
    checkCount(count, this.batch);
    const cfg = this.config.pointer;
    const inBytes = this.size * F32;
    const outBytes = outputStride(this.size) * F32;
    for (let f = 0; f < count; f++) {
      wasm._kiss_fftr(cfg, this.inPtr + f * inBytes, this.outPtr + f * outBytes);
    }
  }
}

const cache = new Map<string, KissBatchRealFft>();

/**
 * The shared kissfft transform for (size, batch). Instances live for the process: they are small, and
 * sharing is safe because every use is synchronous (fill input, transform, read output).
 */
export function kissBatchRealFft(size: number, batch: number): BatchRealFft {
  const key = `${size}x${batch}`;
  let fft = cache.get(key);
  if (!fft) {
    fft = new KissBatchRealFft(size, batch);
    cache.set(key, fft);
  }
  return fft;
}
