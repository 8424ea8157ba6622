/**
 * Every recurrent layer and option against float64 central finite differences (input and every weight).
 */
import { describe, expect, it } from 'vitest';
import { assertGradients, randomTensor, seededRandom } from '../../../test/finite-diff.ts';
import type { Layer, LayerSpec } from '../layer.ts';
import { layerFromSpec } from '../registry.ts';
import './bidirectional.ts';
import './recurrent.ts';

const CLASSES = [
  { class_name: 'SimpleRNN', config: {} },
  { class_name: 'LSTM', config: {} },
  { class_name: 'GRU', config: { reset_after: true } },
  { class_name: 'GRU', config: { reset_after: false } },
] as const;

function label(spec: LayerSpec): string {
  return `${spec.class_name} ${JSON.stringify(spec.config)}`;
}

/** A float64 layer built for [time, features] with uniform weights in [-0.6, 0.6). */
export function randomLayer(spec: LayerSpec, time: number, features: number, seed: number): Layer {
  const layer = layerFromSpec(spec, { dtype: 'float64' });
  layer.build([time, features]);
  const random = seededRandom(seed);
  for (const w of layer.weights) w.value.set(randomTensor(w.shape, random, 'float64', 0.6).data);
  return layer;
}

function check(spec: LayerSpec, batch: number, time: number, features: number, seed: number) {
  const layer = randomLayer(spec, time, features, seed);
  const random = seededRandom(seed + 1);
  const input = randomTensor([batch, time, features], random);
  const outShape = layer.build([time, features]);
  const dOutput = randomTensor([batch, ...outShape], random);
  return assertGradients(layer, input, dOutput);
}

describe('recurrent layers: backward equals float64 finite differences', () => {
  const grid: LayerSpec[] = [];
  for (const base of CLASSES) {
    for (const return_sequences of [false, true]) {
      for (const go_backwards of [false, true]) {
        for (const use_bias of [true, false]) {
          grid.push({
            class_name: base.class_name,
            config: { ...base.config, units: 5, return_sequences, go_backwards, use_bias },
          });
        }
      }
    }
  }
  it.each(grid.map((s) => [label(s), s] as const))('%s', (_, spec) => {
    const report = check(spec, 2, 4, 3, 11);
    expect(report.maxError).toBeLessThan(1e-6);
  });

  const activations: LayerSpec[] = [];
  for (const base of CLASSES) {
    for (const [activation, recurrent_activation] of [
      ['relu', 'hard_sigmoid'],
      ['linear', 'sigmoid'],
      ['sigmoid', 'tanh'],
    ]) {
      const gated = base.class_name !== 'SimpleRNN';
      activations.push({
        class_name: base.class_name,
        config: {
          ...base.config,
          units: 3,
          activation,
          ...(gated ? { recurrent_activation } : {}),
          return_sequences: true,
        },
      });
    }
  }
  it.each(activations.map((s) => [label(s), s] as const))('%s', (_, spec) => {
    check(spec, 3, 5, 2, 23);
  });

  it.each(CLASSES.map((s) => [label(s), s] as const))('batch 1, one time step, one unit: %s', (_, base) => {
    check(
      { class_name: base.class_name, config: { ...base.config, units: 1, return_sequences: true } },
      1,
      1,
      1,
      5,
    );
  });

  it.each(CLASSES.map((s) => [label(s), s] as const))('batch 3, 7 steps, odd sizes: %s', (_, base) => {
    check(
      { class_name: base.class_name, config: { ...base.config, units: 7, go_backwards: true } },
      3,
      7,
      5,
      99,
    );
  });
});

describe('Bidirectional: backward equals float64 finite differences', () => {
  const grid: LayerSpec[] = [];
  for (const inner of [CLASSES[1], CLASSES[2], CLASSES[3], CLASSES[0]]) {
    for (const merge_mode of ['concat', 'sum', 'mul', 'ave']) {
      for (const return_sequences of [true, false]) {
        grid.push({
          class_name: 'Bidirectional',
          config: {
            merge_mode,
            layer: { class_name: inner.class_name, config: { ...inner.config, units: 3, return_sequences } },
          },
        });
      }
    }
  }
  it.each(grid.map((s) => [label(s), s] as const))('%s', (_, spec) => {
    check(spec, 2, 5, 3, 31);
  });

  it('wrapping a go_backwards layer (the backward copy then runs forwards)', () => {
    const spec = {
      class_name: 'Bidirectional',
      config: {
        layer: { class_name: 'LSTM', config: { units: 4, return_sequences: true, go_backwards: true } },
      },
    };
    check(spec, 3, 6, 2, 41);
  });
});
