import { describe, expect, it } from 'vitest';
import { assertGradients, randomTensor, seededRandom } from '../../test/finite-diff.ts';
import { assertParity, parityCase } from '../../test/tfjs-reference.ts';
import { Dense } from './dense.ts';
import { LayerConfigError, layerFromSpec } from './registry.ts';
import './index.ts';

const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'] as const;

describe('Dense', () => {
  describe('equals tfjs (output, dInput, dkernel, dbias)', () => {
    for (const inputShape of [
      [4, 5],
      [2, 3, 5],
    ]) {
      for (const useBias of [true, false]) {
        for (const activation of ACTIVATIONS) {
          it(`${inputShape.length}-D input, use_bias ${useBias}, ${activation}`, async () => {
            const spec = parityCase(
              [{ class_name: 'Dense', config: { units: 3, activation, use_bias: useBias } }],
              inputShape,
              { training: true, seed: inputShape.length * 10 + ACTIVATIONS.indexOf(activation) },
            );
            const ours = await assertParity(spec);
            expect(ours.output.shape).toEqual([...inputShape.slice(0, -1), 3]);
            expect(ours.dWeights.length).toBe(useBias ? 2 : 1);
          });
        }
      }
    }
  });

  describe('agrees with float64 central finite differences', () => {
    for (const activation of ACTIVATIONS) {
      it(activation, () => {
        const random = seededRandom(7);
        const layer = new Dense({ units: 4, activation }, { dtype: 'float64' });
        layer.build([3, 5]);
        for (const w of layer.weights) w.value.set(randomTensor(w.shape, random).data);
        assertGradients(layer, randomTensor([2, 3, 5], random), randomTensor([2, 3, 4], random));
      });
    }
  });

  it('reuses its buffers while the batch shape stays and keeps inference and training apart', () => {
    const layer = new Dense({ units: 2 }, { dtype: 'float32' });
    const x = randomTensor([3, 4], seededRandom(1), 'float32');
    const a = layer.forward(x);
    const b = layer.forward(x);
    expect(b.data).toBe(a.data);
    const t = layer.forwardTrain(x);
    expect(t.data).not.toBe(a.data);
    expect([...t.data]).toEqual([...a.data]);
  });

  it('round-trips its config', () => {
    const layer = Dense.fromConfig(
      { name: 'out', units: 7, activation: 'sigmoid', use_bias: false },
      { dtype: 'float32' },
    );
    const config = layer.getConfig();
    expect(config).toEqual({
      name: 'out',
      trainable: true,
      units: 7,
      activation: 'sigmoid',
      use_bias: false,
    });
    expect(layerFromSpec({ class_name: 'Dense', config }, { dtype: 'float32' }).getConfig()).toEqual(config);
  });

  it('takes Keras defaults for omitted keys and ignores initializers', () => {
    const layer = Dense.fromConfig(
      { units: 2, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } } },
      { dtype: 'float32' },
    );
    expect(layer.getConfig()).toMatchObject({ activation: 'linear', use_bias: true, trainable: true });
    layer.build([3]);
    expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([
      ['kernel', [3, 2]],
      ['bias', [2]],
    ]);
    expect([...layer.weights[1].value]).toEqual([0, 0]);
  });

  it('rejects bad configs and inputs, naming what it got', () => {
    const ctx = { dtype: 'float32' } as const;
    expect(() => Dense.fromConfig({ units: 0 }, ctx)).toThrow(
      /Dense: units must be a positive integer; received 0/,
    );
    expect(() => Dense.fromConfig({ units: 2, unit: 3 }, ctx)).toThrow(/unknown config key "unit"/);
    expect(() => Dense.fromConfig({ units: 2, activation: 'gelu' }, ctx)).toThrow(LayerConfigError);
    const layer = new Dense({ units: 2, name: 'd' }, ctx);
    layer.build([3]);
    expect(() => layer.forward(randomTensor([1, 4], seededRandom(1), 'float32'))).toThrow(
      /Dense "d": input shape \[1, 4\] has 4 features, expected 3/,
    );
  });
});
