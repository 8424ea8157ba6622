/**
 * The wasm heap's memory model: zero-filled blocks, reuse and coalescing of freed ones, views that survive
 * the memory growing, the maximum, release errors, and freeing by the garbage collector.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WASM_PAGE_BYTES, WasmHeap, WasmHeapError } from './wasm-heap.ts';

/** A heap over a fresh shared memory of `initial` pages that may grow to `maximum`. */
function heapOf(initial: number, maximum: number): WasmHeap {
  const memory = new WebAssembly.Memory({ initial, maximum, shared: true });
  return new WasmHeap(memory, 1024, maximum * WASM_PAGE_BYTES);
}

describe('WasmHeap', () => {
  it('hands out 64-byte aligned, zero-filled, non-overlapping views of the memory', () => {
    const heap = heapOf(1, 4);
    const a = heap.allocate(3);
    const b = heap.allocate(17);
    const c = heap.allocate(0);
    expect(heap.owns(a) && heap.owns(b) && heap.owns(c)).toBe(true);
    for (const v of [a, b, c]) expect(v.byteOffset % 64).toBe(0);
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 64);
    expect(c.byteOffset).toBeGreaterThanOrEqual(b.byteOffset + 17 * 4);
    expect(heap.owns(new Float32Array(4))).toBe(false);
  });

  it('reuses a released block, zero-filled again', () => {
    const heap = heapOf(1, 4);
    const a = heap.allocate(100);
    a.fill(7);
    heap.allocate(1); // keeps a's block from returning to the bump region
    heap.release(a);
    const again = heap.allocate(90);
    expect(again.byteOffset).toBe(a.byteOffset);
    expect(again.every((v) => v === 0)).toBe(true);
  });

  it('coalesces neighbouring free blocks and gives the last one back to the bump region', () => {
    const heap = heapOf(1, 4);
    const a = heap.allocate(16); // 64 bytes each
    const b = heap.allocate(16);
    const c = heap.allocate(16);
    const d = heap.allocate(16);
    heap.release(a);
    heap.release(c);
    expect(heap.stats.freeBytes).toBe(128);
    heap.release(b); // joins a and c into one 192-byte range
    const abc = heap.allocate(48);
    expect(abc.byteOffset).toBe(a.byteOffset);
    heap.release(abc);
    heap.release(d); // the whole run returns to the bump region: nothing is left in the free list
    expect(heap.stats).toMatchObject({ liveBlocks: 0, liveBytes: 0, freeBytes: 0 });
    expect(heap.allocate(1).byteOffset).toBe(a.byteOffset);
  });

  it('grows the memory without detaching views taken before', () => {
    const heap = heapOf(1, 64);
    const early = heap.allocate(1000);
    early[999] = 42;
    const big = heap.allocate(200_000); // 800 KB > 1 page: the memory grows
    expect(heap.stats.memoryBytes).toBeGreaterThan(WASM_PAGE_BYTES);
    expect(early.length).toBe(1000);
    expect(early[999]).toBe(42);
    // The old view and a view of the grown memory see the same bytes.
    const through = new Float32Array(heap.memory.buffer, early.byteOffset, 1000);
    through[5] = 3;
    expect(early[5]).toBe(3);
    big[199_999] = 1;
    expect(big[199_999]).toBe(1);
  });

  it('refuses to grow past its maximum, saying how much it needed and holds', () => {
    const heap = heapOf(1, 2);
    heap.allocate(10_000);
    expect(() => heap.allocate(40_000)).toThrow(WasmHeapError);
    expect(() => heap.allocate(40_000)).toThrow(
      /cannot allocate 160000 bytes: .* maximum is 0\.1 MB \(0\.0 MB in 1 live blocks/,
    );
    expect(() => heap.allocate(-1)).toThrow('allocate: length must be an integer >= 0; received -1');
  });

  it('ignores arrays it does not own and refuses double releases and subarrays', () => {
    const heap = heapOf(1, 2);
    heap.release(new Float32Array(8));
    heap.release(new Float64Array(8));
    const a = heap.allocate(32);
    expect(() => heap.release(a.subarray(4))).toThrow(/is not a live block of the wasm heap/);
    heap.release(a);
    expect(() => heap.release(a)).toThrow(
      `release: the array at byte ${a.byteOffset} (32 floats) is not a live block of the wasm heap (released twice, or a subarray of a block)`,
    );
  });

  it('frees a block whose view was garbage-collected, and not one released and handed out again', () => {
    // A child process with --expose-gc: vitest's workers cannot force a collection.
    const script = `
      import { WasmHeap } from ${JSON.stringify(fileURLToPath(new URL('./wasm-heap.ts', import.meta.url)))};
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
      const heap = new WasmHeap(memory, 1024, 2 * 65536);
      const kept = heap.allocate(16);
      (() => { heap.allocate(16); heap.allocate(16); })();
      let reused = heap.allocate(16);
      heap.release(reused);
      reused = heap.allocate(16); // the same address, a new owner that stays referenced
      const before = heap.stats.liveBlocks;
      for (let i = 0; i < 5 && heap.stats.liveBlocks > 2; i++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      console.log(JSON.stringify({ before, after: heap.stats.liveBlocks, kept: kept.length, reused: reused.length }));
    `;
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(out)).toEqual({ before: 4, after: 2, kept: 16, reused: 16 });
  });
});
