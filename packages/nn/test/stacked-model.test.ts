// The seed's model shape end to end: Conv1D → BN → ReLU → Bidirectional LSTM → BN → Bidirectional GRU
// (reset_after false, which tfjs can run) → TimeDistributed Dense sigmoid, against tfjs in both modes and
// against float64 finite differences of the whole stack.
import { describe, expect, it } from 'vitest';
import type { Layer, LayerSpec } from '../src/layers/layer.ts';
import { registeredLayerClasses } from '../src/layers/registry.ts';
import { Sequential } from '../src/model/sequential.ts';
import type { Tensor } from '../src/tensor.ts';
import { assertGradients, randomTensor, seededRandom } from './finite-diff.ts';
import { assertParity, parityCase } from './tfjs-reference.ts';

const FEED_FORWARD_HEAD: LayerSpec[] = [
  { class_name: 'Conv1D', config: { filters: 4, kernel_size: [3], padding: 'same' } },
  { class_name: 'BatchNormalization', config: {} },
  { class_name: 'Activation', config: { activation: 'relu' } },
];
const RECURRENT_MIDDLE: LayerSpec[] = [
  {
    class_name: 'Bidirectional',
    config: {
      merge_mode: 'concat',
      layer: { class_name: 'LSTM', config: { units: 3, return_sequences: true } },
    },
  },
  { class_name: 'BatchNormalization', config: {} },
  {
    class_name: 'Bidirectional',
    config: {
      merge_mode: 'concat',
      layer: { class_name: 'GRU', config: { units: 2, return_sequences: true, reset_after: false } },
    },
  },
];
const OUTPUT: LayerSpec[] = [
  {
    class_name: 'TimeDistributed',
    config: { layer: { class_name: 'Dense', config: { units: 1, activation: 'sigmoid' } } },
  },
];
const FULL_STACK = [...FEED_FORWARD_HEAD, ...RECURRENT_MIDDLE, ...OUTPUT];

/** A whole Sequential seen as one Layer, so the finite-difference checker can take it. */
function asLayer(model: Sequential): Layer {
  return {
    className: 'Sequential',
    name: model.name,
    dtype: model.dtype,
    trainable: true,
    build: (shape) => model.build(shape),
    get weights() {
      return model.weights;
    },
    forward: (x: Tensor) => model.forward(x),
    forwardTrain: (x: Tensor) => model.forwardTrain(x),
    backward: (dy: Tensor) => model.backward(dy),
    zeroGrad: () => model.zeroGrad(),
    getConfig: () => model.toJSON().config,
    dispose: () => model.dispose(),
  };
}

describe('stacked model', () => {
  it('has the recurrent layers registered', () => {
    expect(registeredLayerClasses()).toEqual(expect.arrayContaining(['Bidirectional', 'LSTM', 'GRU']));
  });

  for (const training of [true, false]) {
    const mode = training ? 'training' : 'inference';
    it(`feed-forward part equals tfjs in ${mode} mode`, async () => {
      await assertParity(
        parityCase([...FEED_FORWARD_HEAD, ...OUTPUT], [3, 8, 5], { training, seed: 31 }),
        mode,
      );
    });

    it(`full stack equals tfjs in ${mode} mode`, async () => {
      const spec = parityCase(FULL_STACK, [3, 8, 5], { training, seed: 32 });
      const ours = await assertParity(spec, mode);
      expect(ours.output.shape).toEqual([3, 8, 1]);
      expect(ours.dWeights.length).toBe(spec.weights.length);
    });
  }

  it('full stack agrees with float64 central finite differences', () => {
    const random = seededRandom(33);
    const model = Sequential.fromSpec(FULL_STACK, { dtype: 'float64' });
    const [time, outputs] = model.build([5, 3]);
    for (const w of model.weights) {
      w.value.set(randomTensor(w.shape, random, 'float64', 0.5).data);
      if (w.name === 'moving_variance') w.value.set(w.value.map((v) => 0.5 + Math.abs(v)));
    }
    assertGradients(
      asLayer(model),
      randomTensor([2, 5, 3], random),
      randomTensor([2, time, outputs], random),
      {
        // Sum over a 5-step recurrence: the difference quotient's round-off sits a little above 1e-6.
        tolerance: 1e-6,
      },
    );
  });
});
