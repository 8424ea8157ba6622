/**
 * The loop's memory plan: buffers are allocated once per (batch, time) shape and reused, and no time step
 * allocates — counted through `allocate` (every layer buffer comes from it) and through `subarray` views.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomTensor, seededRandom } from '../../../test/finite-diff.ts';
import type { Layer, LayerSpec } from '../layer.ts';
import { layerFromSpec } from '../registry.ts';
import '../index.ts';

const counts = vi.hoisted(() => ({ allocate: 0 }));
vi.mock('../../tensor.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../tensor.ts')>();
  return {
    ...original,
    allocate: (dtype: 'float32' | 'float64', n: number) => {
      counts.allocate++;
      return original.allocate(dtype, n);
    },
  };
});

const SPECS: LayerSpec[] = [
  { class_name: 'SimpleRNN', config: { units: 4, return_sequences: true } },
  { class_name: 'LSTM', config: { units: 4, return_sequences: true, go_backwards: true } },
  { class_name: 'GRU', config: { units: 4, reset_after: true } },
  { class_name: 'GRU', config: { units: 4, reset_after: false, return_sequences: true } },
  {
    class_name: 'Bidirectional',
    config: {
      merge_mode: 'mul',
      layer: { class_name: 'LSTM', config: { units: 4, return_sequences: true } },
    },
  },
];

/** Runs forward, forwardTrain and backward once; returns what was allocated and the tensors handed out. */
function step(layer: Layer, batch: number, time: number) {
  const random = seededRandom(batch * 100 + time);
  const x = randomTensor([batch, time, 3], random, 'float32');
  const dy = randomTensor([batch, ...layer.build([time, 3])], random, 'float32');
  const subarray = vi.spyOn(Float32Array.prototype, 'subarray');
  const before = counts.allocate;
  const inferred = layer.forward(x);
  const y = layer.forwardTrain(x);
  const dx = layer.backward(dy);
  const result = {
    allocations: counts.allocate - before,
    subarrays: subarray.mock.calls.length,
    inferred,
    y,
    dx,
  };
  subarray.mockRestore();
  return result;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('recurrent memory plan', () => {
  it.each(SPECS.map((s) => [JSON.stringify(s), s] as const))('%s', (_, spec) => {
    const layer = layerFromSpec(spec, { dtype: 'float32' });
    layer.build([5, 3]);

    // The first call allocates through the counted `allocate`: the counter sees the layer's buffers.
    // (So does the subarray spy: a new workspace takes one view.)
    const first = step(layer, 2, 5);
    expect(first.allocations).toBeGreaterThan(0);
    expect(first.subarrays).toBeGreaterThan(0);
    const again = step(layer, 2, 5);
    expect(again.allocations).toBe(0);
    expect(again.subarrays).toBe(0);
    // The same buffers are handed out again (callers that keep outputs copy them, per the Layer contract).
    expect(again.y.data).toBe(first.y.data);
    expect(again.inferred.data).toBe(first.inferred.data);
    expect(again.dx.data).toBe(first.dx.data);
    // Inference and training buffers are separate: forward() does not clobber forwardTrain()'s caches.
    expect(again.inferred.data).not.toBe(again.y.data);

    // A new shape allocates once, with a count that does not grow with the number of time steps.
    const short = step(layer, 2, 3);
    const long = step(layer, 2, 40);
    expect(long.allocations).toBe(short.allocations);
    expect(step(layer, 2, 40).allocations).toBe(0);
    expect(step(layer, 2, 40).subarrays).toBe(0);
  });
});
