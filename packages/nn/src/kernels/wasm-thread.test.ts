/**
 * `concurrently` on the wasm backend's worker thread: the second task's kernels run on the worker (they
 * are recorded, not run, while it is being called), results equal a single-threaded run bit for bit, a
 * Bidirectional(LSTM) layer runs its directions that way, and worker failures surface as errors.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomTensor } from '../../test/finite-diff.ts';
import { layerFromSpec } from '../layers/registry.ts';
import { seededRandom } from '../layers/rnn/initializers.ts';
import '../layers/index.ts';
import type { Tensor } from '../tensor.ts';
import { kernels, setKernels } from './backend.ts';
import type { Kernels } from './kernels.ts';
import { tsGemm } from './ts-gemm.ts';
import { createWasmKernels, WASM_KERNELS_URL, type WasmKernels } from './wasm.ts';
import { KernelThread } from './wasm-thread.ts';

const threaded = createWasmKernels({ threads: 2, minConcurrentWork: 0 })!;
const single = createWasmKernels({ threads: 1 })!;
const random = seededRandom(11);

function filled(k: WasmKernels, n: number): Float32Array {
  const a = k.allocateFloat32(n);
  for (let i = 0; i < n; i++) a[i] = 2 * random() - 1;
  return a;
}

describe('wasm concurrently', () => {
  beforeAll(() => {
    expect(threaded.waitForThread()).toBe(true);
  });

  it('records the second task for the worker and returns when both are done', () => {
    const n = 48;
    const a = filled(threaded, n * n);
    const b = filled(threaded, n * n);
    const c1 = threaded.allocateFloat32(n * n);
    const c2 = threaded.allocateFloat32(n * n);
    let seenInsideSecond = Number.NaN;
    threaded.concurrently(
      () => threaded.gemm(false, false, n, n, n, 1, a, 0, n, b, 0, n, 0, c1, 0, n),
      () => {
        threaded.gemm(false, true, n, n, n, 2, a, 0, n, b, 0, n, 0, c2, 0, n);
        seenInsideSecond = c2[0]; // not computed yet: the call was only recorded
      },
      1,
    );
    expect(seenInsideSecond).toBe(0);
    const e1 = new Float64Array(n * n);
    const e2 = new Float64Array(n * n);
    tsGemm(false, false, n, n, n, 1, Float64Array.from(a), 0, n, Float64Array.from(b), 0, n, 0, e1, 0, n);
    tsGemm(false, true, n, n, n, 2, Float64Array.from(a), 0, n, Float64Array.from(b), 0, n, 0, e2, 0, n);
    for (let i = 0; i < n * n; i++) {
      expect(Math.abs(c1[i] - e1[i])).toBeLessThan(1e-4);
      expect(Math.abs(c2[i] - e2[i])).toBeLessThan(1e-4);
    }
  });

  it('runs work it cannot record (operands outside the heap) in order, on the calling thread', () => {
    const n = 8;
    const a = new Float32Array(n * n).fill(1);
    const b = filled(threaded, n * n);
    const c = threaded.allocateFloat32(n * n);
    const d = threaded.allocateFloat32(n * n);
    threaded.concurrently(
      () => {},
      () => {
        threaded.gemm(false, false, n, n, n, 1, b, 0, n, b, 0, n, 0, c, 0, n); // recorded
        threaded.gemm(false, false, n, n, n, 1, a, 0, n, c, 0, n, 0, d, 0, n); // staged: runs now, after it
      },
      1,
    );
    // d = ones · (b · b): every row is the column sums of b · b.
    const bb = new Float64Array(n * n);
    tsGemm(false, false, n, n, n, 1, Float64Array.from(b), 0, n, Float64Array.from(b), 0, n, 0, bb, 0, n);
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += bb[i * n + j];
      expect(Math.abs(d[j] - sum)).toBeLessThan(1e-4);
    }
  });

  it('reports what the worker threw', () => {
    const module = new WebAssembly.Module(readFileSync(WASM_KERNELS_URL));
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true });
    const thread = new KernelThread(module, memory, ['add']);
    const until = Date.now() + 10_000;
    while (!thread.ready && Date.now() < until)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    // add(dst, a, b, n) far beyond the 128 KiB memory traps.
    thread.calls.set([1, 0, 4, 1 << 30, 0, 0, 16]);
    thread.start();
    expect(() => thread.wait()).toThrow(
      /wasm kernel thread failed: RuntimeError: memory access out of bounds/,
    );
    thread.terminate();
  });
});

describe('Bidirectional(LSTM) on two threads', () => {
  let previous: Kernels;
  beforeAll(() => {
    previous = kernels();
  });
  afterAll(() => {
    setKernels(previous);
  });

  /** forward, forwardTrain and backward of one layer under the given kernels, copied out. */
  function run(k: WasmKernels, x: Tensor, dy: Tensor): Float32Array[] {
    setKernels(k);
    const layer = layerFromSpec(
      {
        class_name: 'Bidirectional',
        config: {
          name: 'bi',
          merge_mode: 'concat',
          layer: {
            class_name: 'LSTM',
            config: {
              units: 16,
              return_sequences: true,
              kernel_initializer: { class_name: 'Ones', config: {} },
            },
          },
        },
      },
      { dtype: 'float32' },
    );
    layer.build(x.shape.slice(1));
    const r = seededRandom(5);
    for (const w of layer.weights) for (let i = 0; i < w.value.length; i++) w.value[i] = 0.4 * (2 * r() - 1);
    const out = [Float32Array.from(layer.forward(x).data)];
    out.push(Float32Array.from(layer.forwardTrain(x).data));
    out.push(Float32Array.from(layer.backward(dy).data));
    for (const w of layer.weights) out.push(Float32Array.from(w.grad));
    layer.dispose();
    return out;
  }

  it('gives the single-threaded results bit for bit, on heap and on plain inputs', () => {
    const r = seededRandom(9);
    const x = randomTensor([3, 7, 5], r, 'float32');
    const dy = randomTensor([3, 7, 32], r, 'float32');
    const plain = { shape: x.shape, data: Float32Array.from(x.data) };
    const expected = run(single, x, dy);
    const before = threaded.threadTasks;
    expect(run(threaded, x, dy)).toEqual(expected);
    expect(threaded.threadTasks - before).toBe(3); // forward, forwardTrain and backward each used the worker
    expect(run(threaded, plain, dy)).toEqual(expected);
  });
});
