/**
 * Keras configs: getConfig() → fromConfig round trips (same config, same outputs with the same weights),
 * Keras 2 JSON as TF writes it, TF2 defaults, fresh-weight initializers, and errors for what we reject.
 */
import { describe, expect, it } from 'vitest';
import { randomTensor, seededRandom } from '../../../test/finite-diff.ts';
import type { LayerSpec } from '../layer.ts';
import { LayerConfigError, layerFromSpec } from '../registry.ts';
import '../index.ts';
import type { Bidirectional } from './bidirectional.ts';
import type { GRU, LSTM } from './recurrent.ts';

const ctx = { dtype: 'float64' as const };

const ROUND_TRIPS: LayerSpec[] = [
  { class_name: 'SimpleRNN', config: { units: 3, activation: 'relu', use_bias: false, go_backwards: true } },
  {
    class_name: 'LSTM',
    config: {
      name: 'lstm_keep',
      units: 4,
      recurrent_activation: 'hard_sigmoid',
      unit_forget_bias: false,
      return_sequences: true,
      trainable: false,
      kernel_initializer: { class_name: 'Orthogonal', config: { gain: 2, seed: 3 } },
    },
  },
  { class_name: 'GRU', config: { units: 5, reset_after: false, activation: 'linear', implementation: 1 } },
  { class_name: 'GRU', config: { units: 2, return_sequences: true, unroll: true } },
  {
    class_name: 'Bidirectional',
    config: { merge_mode: 'ave', layer: { class_name: 'GRU', config: { units: 3, return_sequences: true } } },
  },
  {
    class_name: 'Bidirectional',
    config: {
      layer: { class_name: 'LSTM', config: { units: 2 } },
      backward_layer: { class_name: 'LSTM', config: { units: 2, go_backwards: true, activation: 'relu' } },
    },
  },
];

describe('getConfig / fromConfig round trip', () => {
  it.each(ROUND_TRIPS.map((s) => [JSON.stringify(s), s] as const))('%s', (_, spec) => {
    const a = layerFromSpec(spec, ctx);
    a.build([6, 3]);
    const config = a.getConfig();
    const b = layerFromSpec({ class_name: spec.class_name, config: JSON.parse(JSON.stringify(config)) }, ctx);
    b.build([6, 3]);
    expect(b.getConfig()).toEqual(config);
    expect(b.trainable).toBe(a.trainable);
    expect(b.weights.map((w) => [w.name, w.shape])).toEqual(a.weights.map((w) => [w.name, w.shape]));
    // Save and reload: the same weights give the same outputs.
    b.weights.forEach((w, i) => {
      w.value.set(a.weights[i].value);
    });
    const x = randomTensor([2, 6, 3], seededRandom(4));
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(a.forward(x).data));
  });
});

describe('Keras 2 JSON and TF2 defaults', () => {
  it('loads an LSTM config exactly as tf.keras 2.x get_config() writes it', () => {
    const keras = {
      name: 'lstm',
      trainable: true,
      dtype: 'float32',
      batch_input_shape: [null, 150, 32],
      return_sequences: true,
      return_state: false,
      go_backwards: false,
      stateful: false,
      unroll: false,
      time_major: false,
      units: 64,
      activation: 'tanh',
      recurrent_activation: 'sigmoid',
      use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      recurrent_initializer: { class_name: 'Orthogonal', config: { gain: 1.0, seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      unit_forget_bias: true,
      kernel_regularizer: null,
      recurrent_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      recurrent_constraint: null,
      bias_constraint: null,
      dropout: 0.0,
      recurrent_dropout: 0.0,
      implementation: 2,
    };
    const layer = layerFromSpec({ class_name: 'LSTM', config: keras }, ctx);
    expect(layer.build([150, 32])).toEqual([150, 64]);
    expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([
      ['kernel', [32, 256]],
      ['recurrent_kernel', [64, 256]],
      ['bias', [256]],
    ]);
    const { batch_input_shape: _, ...rest } = keras;
    expect(layer.getConfig()).toEqual({ ...rest, dtype: 'float64' });
  });

  it('defaults are TF2 Keras: sigmoid gates, GRU reset_after (bias [2, 3u]), unit_forget_bias', () => {
    const gru = layerFromSpec({ class_name: 'GRU', config: { units: 3 } }, ctx) as GRU;
    gru.build([4, 2]);
    expect(gru.resetAfter).toBe(true);
    expect(gru.recurrentActivation).toBe('sigmoid');
    expect(gru.weights.map((w) => w.shape)).toEqual([
      [2, 9],
      [3, 9],
      [2, 9],
    ]);
    const gruBefore = layerFromSpec({ class_name: 'GRU', config: { units: 3, reset_after: false } }, ctx);
    gruBefore.build([4, 2]);
    expect(gruBefore.weights[2].shape).toEqual([9]);

    const lstm = layerFromSpec({ class_name: 'LSTM', config: { units: 3 } }, ctx) as LSTM;
    lstm.build([4, 2]);
    expect(lstm.recurrentActivation).toBe('sigmoid');
    // Fresh bias: i, c, o blocks from the (zeros) initializer, the forget block ones.
    expect(Array.from(lstm.weights[2].value)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('fresh recurrent kernels are orthogonal (rows of [u, G·u] orthonormal), kernels glorot-bounded', () => {
    const lstm = layerFromSpec({ class_name: 'LSTM', config: { units: 5 } }, ctx);
    lstm.build([3, 7]);
    const [kernel, recurrent] = lstm.weights;
    const cols = 20;
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        let dot = 0;
        for (let c = 0; c < cols; c++) dot += recurrent.value[i * cols + c] * recurrent.value[j * cols + c];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
    const limit = Math.sqrt(6 / (7 + 20));
    expect(kernel.value.every((v) => Math.abs(v) <= limit)).toBe(true);
    expect(kernel.value.some((v) => Math.abs(v) > limit / 2)).toBe(true);
  });

  it('seeded initializers reproduce', () => {
    const spec = {
      class_name: 'SimpleRNN',
      config: { units: 4, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: 9 } } },
    };
    const a = layerFromSpec(spec, ctx);
    const b = layerFromSpec(spec, ctx);
    a.build([2, 3]);
    b.build([2, 3]);
    expect(Array.from(b.weights[0].value)).toEqual(Array.from(a.weights[0].value));
  });

  it('Bidirectional: forward copy then backward copy, go_backwards flipped, trainable reaches both', () => {
    const bi = layerFromSpec(
      {
        class_name: 'Bidirectional',
        config: { name: 'bi', layer: { class_name: 'GRU', config: { name: 'g', units: 2 } } },
      },
      ctx,
    ) as Bidirectional;
    expect(bi.build([5, 3])).toEqual([4]);
    expect(bi.weights.map((w) => w.name)).toEqual([
      'forward_g/kernel',
      'forward_g/recurrent_kernel',
      'forward_g/bias',
      'backward_g/kernel',
      'backward_g/recurrent_kernel',
      'backward_g/bias',
    ]);
    expect(bi.weights[0].value).toBe(bi.forwardLayer.weights[0].value);
    expect([bi.forwardLayer.goBackwards, bi.backwardLayer.goBackwards]).toEqual([false, true]);
    bi.trainable = false;
    expect([bi.forwardLayer.trainable, bi.backwardLayer.trainable]).toEqual([false, false]);
    expect(bi.getConfig().layer).toEqual({
      class_name: 'GRU',
      config: expect.objectContaining({ name: 'g' }),
    });
  });
});

describe('configs we reject name what they received', () => {
  it.each([
    [{ class_name: 'LSTM', config: { units: 2, return_state: true } }, /LSTM: return_state must be false/],
    [{ class_name: 'GRU', config: { units: 2, stateful: true } }, /stateful must be false/],
    [{ class_name: 'LSTM', config: { units: 2, dropout: 0.2 } }, /dropout must be 0 .*received 0.2/],
    [
      { class_name: 'SimpleRNN', config: { units: 2, recurrent_dropout: 0.1 } },
      /recurrent_dropout must be 0/,
    ],
    [
      { class_name: 'LSTM', config: { units: 2, kernel_regularizer: { class_name: 'L2' } } },
      /kernel_regularizer must be null/,
    ],
    [{ class_name: 'LSTM', config: { units: 0 } }, /units must be a positive integer; received 0/],
    [{ class_name: 'LSTM', config: {} }, /units must be a positive integer; received undefined/],
    [
      { class_name: 'GRU', config: { units: 2, activation: 'softmax' } },
      /activation must be one of .*received "softmax"/,
    ],
    [
      { class_name: 'LSTM', config: { units: 2, recurrent_activation: 'swish' } },
      /recurrent_activation must be one of/,
    ],
    [{ class_name: 'LSTM', config: { units: 2, implmentation: 2 } }, /unknown config key "implmentation"/],
    [
      { class_name: 'SimpleRNN', config: { units: 2, unit_forget_bias: true } },
      /unknown config key "unit_forget_bias"/,
    ],
    [
      { class_name: 'GRU', config: { units: 2, kernel_initializer: 'he_normal' } },
      /kernel_initializer must be one of/,
    ],
    [
      {
        class_name: 'Bidirectional',
        config: { merge_mode: null, layer: { class_name: 'LSTM', config: { units: 2 } } },
      },
      /merge_mode must be one of concat, sum, mul, ave \(null gives two output tensors/,
    ],
    [
      {
        class_name: 'Bidirectional',
        config: { merge_mode: 'max', layer: { class_name: 'LSTM', config: { units: 2 } } },
      },
      /merge_mode must be one of concat, sum, mul, ave; received "max"/,
    ],
    [{ class_name: 'Bidirectional', config: {} }, /layer must be a nested \{ class_name, config \} layer/],
    [
      { class_name: 'Bidirectional', config: { layer: { class_name: 'Dense', config: { units: 2 } } } },
      /layer must be SimpleRNN, LSTM or GRU; received Dense/,
    ],
    [
      {
        class_name: 'Bidirectional',
        config: {
          layer: { class_name: 'LSTM', config: { units: 2 } },
          backward_layer: { class_name: 'LSTM', config: { units: 2 } },
        },
      },
      /backward_layer must have go_backwards true/,
    ],
  ] as const)('%j', (spec, message) => {
    expect(() => layerFromSpec(spec as LayerSpec, ctx)).toThrow(LayerConfigError);
    expect(() => layerFromSpec(spec as LayerSpec, ctx)).toThrow(message);
  });

  it('shape errors name the layer and both shapes', () => {
    const lstm = layerFromSpec({ class_name: 'LSTM', config: { name: 'l', units: 2 } }, ctx);
    const x = randomTensor([2, 4, 3], seededRandom(1));
    expect(() => lstm.forward({ shape: [8, 3], data: x.data })).toThrow(
      /LSTM "l": input should be 3-D .* but is \[8, 3\]/,
    );
    lstm.forward(x);
    expect(() => lstm.forward(randomTensor([2, 4, 5], seededRandom(1)))).toThrow(
      /built for 3 features, got 5/,
    );
    expect(() => lstm.backward(randomTensor([2, 2], seededRandom(1)))).toThrow(
      /backward\(\) before forwardTrain\(\)/,
    );
    lstm.forwardTrain(x);
    expect(() => lstm.backward(randomTensor([2, 4, 2], seededRandom(1)))).toThrow(
      /dOutput is \[2, 4, 2\] but the output was \[2, 2\]/,
    );
  });
});
