import { describe, expect, it } from 'vitest';
import { assertGradients, randomTensor, seededRandom } from '../../test/finite-diff.ts';
import { assertParity, parityCase } from '../../test/tfjs-reference.ts';
import { Activation } from './activation.ts';
import { LayerConfigError, layerFromSpec } from './registry.ts';
import './index.ts';

const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax', 'hard_sigmoid'] as const;
const ctx = { dtype: 'float32' } as const;

describe('Activation', () => {
  describe('equals tfjs (output, dInput)', () => {
    for (const activation of ACTIVATIONS) {
      for (const inputShape of [
        [3, 5],
        [2, 4, 6],
      ]) {
        it(`${activation}, ${inputShape.length}-D input`, async () => {
          const spec = parityCase([{ class_name: 'Activation', config: { activation } }], inputShape, {
            training: true,
            seed: ACTIVATIONS.indexOf(activation) + 10 * inputShape.length,
          });
          const ours = await assertParity(spec);
          expect(ours.dWeights).toEqual([]);
        });
      }
    }
  });

  describe('agrees with float64 central finite differences', () => {
    // hard_sigmoid and relu have kinks; random inputs land on them with probability 0.
    for (const activation of ACTIVATIONS) {
      it(activation, () => {
        const random = seededRandom(ACTIVATIONS.indexOf(activation));
        const layer = new Activation({ activation }, { dtype: 'float64' });
        assertGradients(
          layer,
          randomTensor([2, 3, 4], random, 'float64', 3),
          randomTensor([2, 3, 4], random),
        );
      });
    }
  });

  it('softmax is over the last axis and survives large logits', () => {
    const layer = new Activation({ activation: 'softmax' }, ctx);
    const y = layer.forward({ shape: [2, 2], data: Float32Array.from([1000, 1000, 0, Math.log(3)]) });
    [0.5, 0.5, 0.25, 0.75].forEach((p, i) => {
      expect(y.data[i]).toBeCloseTo(p, 7);
    });
  });

  it('round-trips its config and rejects unknown activations', () => {
    const config = { name: 'act', trainable: true, activation: 'tanh' };
    const layer = layerFromSpec({ class_name: 'Activation', config }, ctx);
    expect(layer.getConfig()).toEqual(config);
    expect(layer.build([4, 2])).toEqual([4, 2]);
    expect(() => Activation.fromConfig({ activation: 'swish' }, ctx)).toThrow(LayerConfigError);
    expect(() => Activation.fromConfig({ activation: 'swish' }, ctx)).toThrow(/received "swish"/);
    expect(() => Activation.fromConfig({}, ctx)).toThrow(
      /activation must be an activation name; received undefined/,
    );
  });
});
