import { describe, expect, it } from 'vitest';
import { assertGradients, randomTensor, seededRandom } from '../../test/finite-diff.ts';
import { assertParity, parityCase } from '../../test/tfjs-reference.ts';
import { Dense } from './dense.ts';
import { layerFromSpec } from './registry.ts';
import { TimeDistributed } from './time-distributed.ts';
import './index.ts';

const ctx = { dtype: 'float32' } as const;
const wrapped = (config: Record<string, unknown>) => ({
  class_name: 'TimeDistributed',
  config: { layer: { class_name: 'Dense', config } },
});

describe('TimeDistributed', () => {
  describe('equals tfjs (output, dInput, dkernel, dbias)', () => {
    for (const [activation, useBias] of [
      ['sigmoid', true],
      ['linear', false],
      ['softmax', true],
    ] as const) {
      it(`Dense ${activation}, use_bias ${useBias}`, async () => {
        const spec = parityCase([wrapped({ units: 3, activation, use_bias: useBias })], [2, 5, 4], {
          training: true,
          seed: activation.length,
        });
        const ours = await assertParity(spec);
        expect(ours.output.shape).toEqual([2, 5, 3]);
      });
    }
  });

  it('agrees with float64 central finite differences', () => {
    const random = seededRandom(3);
    const layer = new TimeDistributed(
      { layer: new Dense({ units: 2, activation: 'tanh' }, { dtype: 'float64' }) },
      {
        dtype: 'float64',
      },
    );
    layer.build([4, 3]);
    for (const w of layer.weights) w.value.set(randomTensor(w.shape, random).data);
    assertGradients(layer, randomTensor([3, 4, 3], random), randomTensor([3, 4, 2], random));
  });

  it('shares the wrapped layer weights and trainable flag', () => {
    const layer = TimeDistributed.fromConfig(wrapped({ units: 1, name: 'head' }).config, ctx);
    expect(layer.build([150, 64])).toEqual([150, 1]);
    expect(layer.weights.map((w) => [w.name, w.shape])).toEqual([
      ['kernel', [64, 1]],
      ['bias', [1]],
    ]);
    layer.trainable = false;
    expect(layer.layer.trainable).toBe(false);
  });

  it('round-trips its nested Keras 2 config', () => {
    const config = {
      name: 'td',
      trainable: true,
      layer: {
        class_name: 'Dense',
        config: { name: 'head', trainable: true, units: 1, activation: 'sigmoid', use_bias: true },
      },
    };
    const layer = layerFromSpec({ class_name: 'TimeDistributed', config }, ctx);
    expect(layer.getConfig()).toEqual(config);
  });

  it('names the wrapper and the wrapped layer in errors', () => {
    expect(() =>
      TimeDistributed.fromConfig({ name: 'td', layer: { class_name: 'Dense', config: { units: -1 } } }, ctx),
    ).toThrow(/TimeDistributed "td" wraps Dense: units must be a positive integer; received -1/);
    expect(() => TimeDistributed.fromConfig({ layer: 'Dense' }, ctx)).toThrow(/layer must be a nested/);
    const layer = TimeDistributed.fromConfig(
      { name: 'td', layer: { class_name: 'Dense', config: { units: 1 } } },
      ctx,
    );
    expect(() => layer.forward(randomTensor([2, 3], seededRandom(1), 'float32'))).toThrow(
      /TimeDistributed "td": input must be \[batch, time, \.\.\.\]; received \[2, 3\]/,
    );
  });
});
