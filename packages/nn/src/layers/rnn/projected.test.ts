/**
 * Precomputed input projections (`projectInput` + `forwardProjected`, the streaming detector's way of
 * computing each frame's x · kernel + bias once for overlapping windows): the float32 result must equal the
 * float64 `forward` of the same layer and weights — the path tfjs parity and finite differences prove —
 * for every cell, direction, merge mode and column layout.
 */
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../../test/assert-close.ts';
import { randomTensor, seededRandom } from '../../../test/finite-diff.ts';
import { allocate, ShapeError, type Tensor } from '../../tensor.ts';
import type { LayerSpec } from '../layer.ts';
import { layerFromSpec } from '../registry.ts';
import '../index.ts';
import { Bidirectional } from './bidirectional.ts';
import type { RecurrentLayer } from './recurrent.ts';

const CELLS: LayerSpec[] = [
  { class_name: 'LSTM', config: { units: 5, return_sequences: true } },
  { class_name: 'LSTM', config: { units: 4, return_sequences: true, go_backwards: true } },
  { class_name: 'LSTM', config: { units: 3, use_bias: false } },
  { class_name: 'GRU', config: { units: 4, reset_after: true, return_sequences: true } },
  { class_name: 'GRU', config: { units: 3, reset_after: false, go_backwards: true } },
  { class_name: 'SimpleRNN', config: { units: 6, return_sequences: true, go_backwards: true } },
];

/** The layer in float32 and in float64 with the same random weights (bias included). */
function pair<L>(spec: LayerSpec, features: number, seed: number): { f32: L; f64: L } {
  const f32 = layerFromSpec(spec, { dtype: 'float32' });
  const f64 = layerFromSpec(spec, { dtype: 'float64' });
  f32.build([7, features]);
  f64.build([7, features]);
  const random = seededRandom(seed);
  f32.weights.forEach((w, i) => {
    for (let j = 0; j < w.value.length; j++) {
      w.value[j] = 0.6 * (2 * random() - 1);
      f64.weights[i].value[j] = w.value[j];
    }
  });
  return { f32: f32 as L, f64: f64 as L };
}

function toFloat64(x: Tensor): Tensor {
  return { shape: [...x.shape], data: Float64Array.from(x.data) };
}

describe('RecurrentLayer.forwardProjected equals forward', () => {
  it.each(CELLS.map((spec) => [`${spec.class_name} ${JSON.stringify(spec.config)}`, spec]))(
    '%s',
    (_name, spec) => {
      const features = 3;
      const { f32, f64 } = pair<RecurrentLayer>(spec as LayerSpec, features, 11);
      for (const [batch, time] of [
        [1, 7],
        [3, 5],
      ]) {
        const x = randomTensor([batch, time, features], seededRandom(batch + time), 'float32');
        const want = Array.from(f64.forward(toFloat64(x)).data);
        // The layer's columns in the middle of wider rows: [2 spare, G·u, 1 spare].
        const width = f32.projectionWidth + 3;
        const projected = { shape: [batch, time, width], data: allocate('float32', batch * time * width) };
        f32.projectInput(projected, x, 2);
        assertClose('forwardProjected', f32.forwardProjected(projected, 2).data, want);
        // And the plain path still agrees after the projected one reused its buffers.
        assertClose('forward', f32.forward(x).data, want);
      }
    },
  );

  it('rejects projections of the wrong shape, and use before build', () => {
    const { f32 } = pair<RecurrentLayer>(CELLS[0], 3, 1);
    const width = f32.projectionWidth;
    expect(width).toBe(20);
    const p = (shape: number[]) => ({ shape, data: allocate('float32', shape[0] * shape[1] * shape[2]) });
    expect(() => f32.forwardProjected(p([1, 4, width]), 1)).toThrow(ShapeError);
    expect(() => f32.forwardProjected(p([1, 4, width - 1]))).toThrow(/columns 0…19/);
    expect(() => f32.projectInput(p([2, 4, width]), randomTensor([1, 4, 3], Math.random, 'float32'))).toThrow(
      ShapeError,
    );
    const fresh = layerFromSpec(CELLS[0], { dtype: 'float32' }) as RecurrentLayer;
    expect(() => fresh.forwardProjected(p([1, 4, width]))).toThrow(/before build/);
  });
});

describe('Bidirectional.forwardProjected equals forward', () => {
  it.each(['concat', 'sum', 'mul', 'ave'].flatMap((mode) => CELLS.slice(0, 2).map((layer) => [mode, layer])))(
    'merge_mode %s over %j',
    (mode, layer) => {
      const spec = { class_name: 'Bidirectional', config: { merge_mode: mode, layer } };
      const features = 4;
      const { f32, f64 } = pair<Bidirectional>(spec as LayerSpec, features, 5);
      expect(f32).toBeInstanceOf(Bidirectional);
      for (const [batch, time] of [
        [1, 9],
        [4, 6],
      ]) {
        const x = randomTensor([batch, time, features], seededRandom(3 * batch + time), 'float32');
        const want = Array.from(f64.forward(toFloat64(x)).data);
        const width = f32.projectionWidth;
        const projected = { shape: [batch, time, width], data: allocate('float32', batch * time * width) };
        f32.projectInput(projected, x);
        assertClose('forwardProjected', f32.forwardProjected(projected).data, want);
      }
    },
  );

  it('rejects projections that are not [batch, time, projectionWidth]', () => {
    const spec = { class_name: 'Bidirectional', config: { layer: CELLS[0] } };
    const { f32 } = pair<Bidirectional>(spec, 3, 2);
    expect(f32.projectionWidth).toBe(40);
    const bad = { shape: [1, 4, 20], data: allocate('float32', 80) };
    expect(() => f32.forwardProjected(bad)).toThrow(/\[batch, time, 40\]/);
    expect(() => f32.projectInput(bad, randomTensor([1, 4, 3], Math.random, 'float32'))).toThrow(ShapeError);
  });
});
