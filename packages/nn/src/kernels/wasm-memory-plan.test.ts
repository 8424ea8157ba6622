/**
 * The memory plan on the wasm backend, with the reference model of `kws-nn bench`: after the first step
 * of a batch shape, training steps and inferences allocate nothing in the heap, and `dispose()` gives the
 * per-shape buffers back.
 */
import { describe, expect, it } from 'vitest';
import { BENCH_FRAMES, benchData, referenceModel } from '../cli/bench.ts';
import { kernels } from './backend.ts';
import type { WasmKernels } from './wasm.ts';

const backend = kernels();

describe.skipIf(backend.name !== 'wasm')('wasm memory plan (reference model)', () => {
  const heap = (backend as WasmKernels).heap;

  it('allocates nothing per training step or inference once a batch shape has run', () => {
    const { model, trainStep, infer } = referenceModel();
    const train = benchData(4, 1);
    const window = benchData(1, 2).x;
    // Warm-up, with the kernel thread (if any) running: its first task allocates its own scratch once.
    (backend as WasmKernels).waitForThread();
    trainStep(train.x, train.y);
    infer(window);
    const before = heap.stats;
    for (let i = 0; i < 3; i++) {
      trainStep(train.x, train.y);
      infer(window);
    }
    const after = heap.stats;
    expect(after.allocations).toBe(before.allocations);
    expect(after.liveBytes).toBe(before.liveBytes);

    // Disposing returns the workspaces: the live bytes drop by at least the recurrent training workspace
    // (gates and dGates of both directions, [T·B, 4·64] each).
    model.dispose();
    const freed = after.liveBytes - heap.stats.liveBytes;
    expect(freed).toBeGreaterThan(2 * 2 * BENCH_FRAMES * 4 * 4 * 64 * 4);
  });
});
