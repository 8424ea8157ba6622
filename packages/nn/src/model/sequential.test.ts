import type { Tensor as TfTensor } from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { randomTensor, seededRandom } from '../../test/finite-diff.ts';
import { assertAllClose, parityCase, readyTfjs } from '../../test/tfjs-reference.ts';
import type { LayerSpec } from '../layers/layer.ts';
import { LayerConfigError } from '../layers/registry.ts';
import { ShapeError } from '../tensor.ts';
import { runSpec, Sequential } from './sequential.ts';

const STACK: LayerSpec[] = [
  { class_name: 'Conv1D', config: { name: 'conv', filters: 4, kernel_size: [3], padding: 'same' } },
  { class_name: 'BatchNormalization', config: { name: 'bn' } },
  { class_name: 'Activation', config: { name: 'act', activation: 'relu' } },
  {
    class_name: 'TimeDistributed',
    config: {
      name: 'td',
      layer: { class_name: 'Dense', config: { name: 'head', units: 1, activation: 'sigmoid' } },
    },
  },
];

function built(specs: LayerSpec[] = STACK, inputShape = [6, 3]): Sequential {
  const model = Sequential.fromSpec(specs);
  model.build(inputShape);
  return model;
}

describe('Sequential', () => {
  it('lists weights layer by layer in Keras get_weights() order', () => {
    const model = built();
    expect(model.weights.map((w) => [w.name, w.shape])).toEqual([
      ['kernel', [3, 3, 4]],
      ['bias', [4]],
      ['gamma', [4]],
      ['beta', [4]],
      ['moving_mean', [4]],
      ['moving_variance', [4]],
      ['kernel', [4, 1]],
      ['bias', [1]],
    ]);
    expect(model.outputShape).toEqual([6, 1]);
  });

  it('setWeights / getWeights round-trip and check count and shapes, naming the layer and weight', () => {
    const model = built();
    const random = seededRandom(1);
    const values = model.weights.map((w) => randomTensor(w.shape, random, 'float32'));
    model.setWeights(values);
    expect(model.getWeights().map((t) => [...t.data])).toEqual(values.map((t) => [...t.data]));

    expect(() => model.setWeights(values.slice(0, 5))).toThrow(
      /layer 1 \(BatchNormalization "bn"\): weight moving_variance \[4\] is missing: 5 weights given, the model has 8/,
    );
    expect(() => model.setWeights([...values, values[0]])).toThrow(/9 weights given, the model has 8/);
    const wrong = [...values];
    wrong[6] = randomTensor([3, 1], random, 'float32');
    expect(() => model.setWeights(wrong)).toThrow(ShapeError);
    expect(() => model.setWeights(wrong)).toThrow(
      /layer 3 \(TimeDistributed "td"\): weight kernel has shape \[3, 1\], expected \[4, 1\]/,
    );
  });

  it('builds from the first input and refuses inputs that do not fit', () => {
    const model = Sequential.fromSpec(STACK);
    expect(model.inputShape).toBeNull();
    const y = model.forward(randomTensor([2, 6, 3], seededRandom(2), 'float32'));
    expect(y.shape).toEqual([2, 6, 1]);
    expect(model.inputShape).toEqual([6, 3]);
    // A different length is fine (the layers do not depend on it); different channels are not.
    expect(model.forward(randomTensor([1, 9, 3], seededRandom(2), 'float32')).shape).toEqual([1, 9, 1]);
    expect(() => model.forward(randomTensor([1, 6, 5], seededRandom(2), 'float32'))).toThrow(
      /layer 0 \(Conv1D\): Conv1D "conv": built for 3 input channels/,
    );
  });

  it('reads the input shape Keras declares (InputLayer or batch_input_shape) and enforces it', () => {
    const withInputLayer = Sequential.fromSpec([
      { class_name: 'InputLayer', config: { batch_input_shape: [null, null, 3], name: 'in' } },
      ...STACK,
    ]);
    expect(withInputLayer.layers.length).toBe(4);
    expect(withInputLayer.declaredInputShape).toEqual([null, 3]);
    expect(withInputLayer.build([11, 3])).toEqual([11, 1]);
    const declared = Sequential.fromSpec([
      { class_name: 'Dense', config: { units: 2, batch_input_shape: [null, 5] } },
    ]);
    expect(() => declared.build([4])).toThrow(
      /input shape \[batch, 4\] does not match the model's batch_input_shape \[null, 5\] \(layer 0, Dense/,
    );
    expect(() => Sequential.fromSpec([STACK[0], { class_name: 'InputLayer', config: {} }])).toThrow(
      /layer 1 \(InputLayer\): an InputLayer may only come first/,
    );
  });

  it('accepts layer configs with every key Keras 2 model.to_json() writes', () => {
    const init = (class_name: string) => ({
      class_name,
      config: class_name === 'GlorotUniform' ? { seed: null } : {},
    });
    const regs = { kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null };
    const cons = { kernel_constraint: null, bias_constraint: null };
    const model = Sequential.fromJSON({
      class_name: 'Sequential',
      config: {
        name: 'kws',
        layers: [
          {
            class_name: 'InputLayer',
            config: {
              batch_input_shape: [null, 150, 13],
              dtype: 'float32',
              sparse: false,
              ragged: false,
              name: 'in',
            },
          },
          {
            class_name: 'Conv1D',
            config: {
              name: 'conv1d',
              trainable: true,
              dtype: 'float32',
              filters: 32,
              kernel_size: [3],
              strides: [1],
              padding: 'same',
              data_format: 'channels_last',
              dilation_rate: [1],
              groups: 1,
              activation: 'linear',
              use_bias: true,
              kernel_initializer: init('GlorotUniform'),
              bias_initializer: init('Zeros'),
              ...regs,
              ...cons,
            },
          },
          {
            class_name: 'BatchNormalization',
            config: {
              name: 'batch_normalization',
              trainable: true,
              dtype: 'float32',
              axis: [2],
              momentum: 0.99,
              epsilon: 0.001,
              center: true,
              scale: true,
              beta_initializer: init('Zeros'),
              gamma_initializer: init('Ones'),
              moving_mean_initializer: init('Zeros'),
              moving_variance_initializer: init('Ones'),
              beta_regularizer: null,
              gamma_regularizer: null,
              beta_constraint: null,
              gamma_constraint: null,
            },
          },
          {
            class_name: 'Activation',
            config: { name: 'activation', trainable: true, dtype: 'float32', activation: 'relu' },
          },
          {
            class_name: 'TimeDistributed',
            config: {
              name: 'time_distributed',
              trainable: true,
              dtype: 'float32',
              layer: {
                class_name: 'Dense',
                config: {
                  name: 'dense',
                  trainable: true,
                  dtype: 'float32',
                  units: 1,
                  activation: 'sigmoid',
                  use_bias: true,
                  kernel_initializer: init('GlorotUniform'),
                  bias_initializer: init('Zeros'),
                  ...regs,
                  ...cons,
                },
              },
            },
          },
        ],
      },
    });
    expect(model.name).toBe('kws');
    expect(model.build([150, 13])).toEqual([150, 1]);
    expect(model.weights.length).toBe(8);
  });

  it('names the layer index and class for unknown classes and bad configs', () => {
    expect(() => Sequential.fromSpec([STACK[0], { class_name: 'Dropout', config: { rate: 0.5 } }])).toThrow(
      /layer 1 \(Dropout\): Unknown layer class_name "Dropout"/,
    );
    expect(() => Sequential.fromSpec([{ class_name: 'Dense', config: { units: 'two' } }])).toThrow(
      LayerConfigError,
    );
    expect(() => Sequential.fromSpec([{ class_name: 'Dense', config: { units: 'two' } }])).toThrow(
      /layer 0 \(Dense\): Dense: units must be a positive integer; received "two"/,
    );
  });

  it('toJSON is Keras Sequential JSON that fromJSON and tfjs both load to the same function', async () => {
    const model = built();
    const random = seededRandom(4);
    model.setWeights(
      model.weights.map((w) => {
        const t = randomTensor(w.shape, random, 'float32');
        if (w.name === 'moving_variance') t.data.set(t.data.map((v) => 0.5 + Math.abs(v)));
        return t;
      }),
    );
    const json = model.toJSON();
    expect(json.class_name).toBe('Sequential');
    expect(json.config.layers[0]).toMatchObject({
      class_name: 'InputLayer',
      config: { batch_input_shape: [null, 6, 3] },
    });
    const again = Sequential.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(again.toJSON()).toEqual(json);

    const x = randomTensor([2, 6, 3], random, 'float32');
    const ours = model.forward(x);
    const tf = await readyTfjs();
    const theirs = await tf.models.modelFromJSON({ modelTopology: json } as never);
    // tfjs lists trainable weights first; set them per layer in get_weights() order.
    let next = 0;
    const values = model.getWeights();
    for (const layer of theirs.layers) {
      const n = layer.weights.length;
      layer.setWeights(values.slice(next, next + n).map((t) => tf.tensor(t.data, [...t.shape])));
      next += n;
    }
    const y = theirs.predict(tf.tensor(x.data, [...x.shape])) as TfTensor;
    assertAllClose('tfjs output of toJSON', ours, { shape: y.shape, data: y.dataSync() as Float32Array });
    theirs.dispose();
  });

  it('accumulates gradients across backward calls until zeroGrad', () => {
    const model = built();
    const random = seededRandom(5);
    const x = randomTensor([2, 6, 3], random, 'float32');
    const dy = randomTensor([2, 6, 1], random, 'float32');
    model.forwardTrain(x);
    model.backward(dy);
    const once = model.weights.map((w) => [...w.grad]);
    model.forwardTrain(x);
    model.backward(dy);
    model.weights.forEach((w, i) => {
      w.grad.forEach((g, j) => {
        expect(g).toBeCloseTo(2 * once[i][j], 4);
      });
    });
    model.zeroGrad();
    expect(model.weights.every((w) => w.grad.every((g) => g === 0))).toBe(true);
  });
});

describe('runSpec', () => {
  it('gives non-trainable weights and frozen layers all-zero gradients', () => {
    const layers: LayerSpec[] = [
      { class_name: 'Dense', config: { units: 3, trainable: false } },
      { class_name: 'BatchNormalization', config: {} },
    ];
    const result = runSpec(parityCase(layers, [4, 2], { training: true, seed: 3 }));
    const zero = result.dWeights.map((d) => d.data.every((v) => v === 0));
    expect(zero).toEqual([true, true, false, false, true, true]);
  });

  it('uses batch statistics in training mode and moving statistics in inference mode', () => {
    const layers: LayerSpec[] = [{ class_name: 'BatchNormalization', config: {} }];
    const spec = parityCase(layers, [5, 3], { training: true, seed: 8 });
    const train = runSpec(spec);
    const infer = runSpec({ ...spec, training: false });
    // Batch-normalised output has zero mean per channel (beta aside); the inference output does not.
    const channelMean = (data: ArrayLike<number>, c: number) => {
      let s = 0;
      for (let r = 0; r < 5; r++) s += data[r * 3 + c];
      return s / 5;
    };
    expect(channelMean(train.output.data, 0)).toBeCloseTo(spec.weights[1].data[0], 5);
    expect(Math.abs(channelMean(infer.output.data, 0) - spec.weights[1].data[0])).toBeGreaterThan(1e-3);
  });

  it('refuses a dOutput whose shape differs from the output', () => {
    const spec = parityCase([{ class_name: 'Dense', config: { units: 3 } }], [4, 2], { training: false });
    expect(() => runSpec({ ...spec, dOutput: randomTensor([4, 2], seededRandom(1), 'float32') })).toThrow(
      /dOutput has shape \[4, 2\] but the model output is \[4, 3\]/,
    );
  });
});
