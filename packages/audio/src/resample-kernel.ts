/**
 * The exact polyphase filter of `resample` in WebAssembly SIMD: wasm/resample_kernel.c (float32, four
 * lanes), loaded once. JavaScript owns the kernel's memory and lays it out as [table | input | output];
 * the input is copied in and the output out in chunks of at most CHUNK_OUTPUTS outputs, so memory stays
 * bounded however long the input is. The table stays loaded until another rate pair needs the kernel.
 */
import { readFileSync } from 'node:fs';

const CHUNK_OUTPUTS = 16_384;
const F32 = 4;
const PAGE_BYTES = 65_536;

interface KernelExports {
  resample_exact(
    out: number,
    input: number,
    table: number,
    taps: number,
    up: number,
    down: number,
    phase0: number,
    count: number,
  ): void;
}

const memory = new WebAssembly.Memory({ initial: 16 });
const kernel = new WebAssembly.Instance(
  new WebAssembly.Module(readFileSync(new URL('./resample_kernel.wasm', import.meta.url))),
  { env: { memory } },
).exports as unknown as KernelExports;

/** The table currently in the kernel's memory, at offset 0. */
let loadedTable: Float32Array | undefined;

/** What the kernel needs of an exact polyphase plan (see `Plan` in resample.ts). */
export interface KernelFilter {
  up: number;
  down: number;
  /** Input samples before the output position covered by tap 0. */
  left: number;
  /** Taps per row, a multiple of 4. */
  taps: number;
  /** [up, taps] float32 weights, rows zero-padded to `taps`. */
  table: Float32Array;
}

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * out[n] = Σ_t samples[floor(n·down / up) − left + t] · table[(n·down) mod up][t], samples outside the input
 * counting as zeros: the same sums as `filterExact` in resample.ts, in float32.
 */
export function filterExactWasm(out: Float32Array, samples: Float32Array, filter: KernelFilter): void {
  const { up, down, left, taps, table } = filter;
  const tableBytes = align16(table.length * F32);
  const maxInput = Math.ceil(((CHUNK_OUTPUTS - 1) * down) / up) + taps + 1;
  const inPtr = tableBytes;
  const outPtr = align16(inPtr + maxInput * F32);
  const needed = outPtr + CHUNK_OUTPUTS * F32;
  if (needed > memory.buffer.byteLength) {
    memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE_BYTES));
  }
  const heap = new Float32Array(memory.buffer);
  if (loadedTable !== table) {
    heap.set(table, 0);
    loadedTable = table;
  }
  for (let n0 = 0; n0 < out.length; n0 += CHUNK_OUTPUTS) {
    const count = Math.min(CHUNK_OUTPUTS, out.length - n0);
    const phase0 = (n0 * down) % up;
    // Input position of this chunk's first tap: floor(n0·down / up) − left, exactly (integers below 2^53).
    const first = (n0 * down - phase0) / up - left;
    const length = Math.floor((phase0 + (count - 1) * down) / up) + taps;
    const from = Math.max(0, first);
    const to = Math.min(samples.length, first + length);
    const inStart = inPtr / F32;
    if (from >= to) {
      heap.fill(0, inStart, inStart + length);
    } else {
      heap.fill(0, inStart, inStart + (from - first));
      heap.set(samples.subarray(from, to), inStart + (from - first));
      heap.fill(0, inStart + (to - first), inStart + length);
    }
    kernel.resample_exact(outPtr, inPtr, 0, taps, up, down, phase0, count);
    out.set(heap.subarray(outPtr / F32, outPtr / F32 + count), n0);
  }
}
