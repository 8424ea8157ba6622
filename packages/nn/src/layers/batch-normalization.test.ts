import { describe, expect, it } from 'vitest';
import { assertGradients, randomTensor, seededRandom } from '../../test/finite-diff.ts';
import { assertAllClose, assertParity, parityCase, tfjsReference } from '../../test/tfjs-reference.ts';
import { Sequential } from '../model/sequential.ts';
import type { Tensor } from '../tensor.ts';
import { BatchNormalization } from './batch-normalization.ts';
import { layerFromSpec } from './registry.ts';
import './index.ts';

const ctx = { dtype: 'float32' } as const;

/** A float64 BN with random gamma/beta, moving mean in ±1 and moving variance in [0.5, 1.5]. */
function randomBn(args: ConstructorParameters<typeof BatchNormalization>[0], channels: number, seed: number) {
  const random = seededRandom(seed);
  const layer = new BatchNormalization(args, { dtype: 'float64' });
  layer.build([channels]);
  for (const w of layer.weights) {
    w.value.set(randomTensor(w.shape, random).data);
    if (w.name === 'moving_variance') w.value.set(w.value.map((v) => 0.5 + Math.abs(v)));
  }
  return { layer, random };
}

describe('BatchNormalization', () => {
  describe('equals tfjs', () => {
    for (const inputShape of [
      [6, 4],
      [3, 5, 4],
    ]) {
      // tfjs cannot differentiate a BatchNormalization without gamma or beta; the harness runs it with
      // gamma = 1 / beta = 0 (see tfjs-reference.ts), the same function.
      for (const [center, scale] of [
        [true, true],
        [false, true],
        [true, false],
        [false, false],
      ]) {
        for (const training of [true, false]) {
          const mode = training ? 'training (batch statistics)' : 'inference (moving statistics)';
          it(`${mode}, ${inputShape.length}-D input, center ${center} scale ${scale}`, async () => {
            const spec = parityCase(
              [{ class_name: 'BatchNormalization', config: { center, scale, momentum: 0.9, epsilon: 0.01 } }],
              inputShape,
              { training, seed: 10 * inputShape.length + Number(center) + 2 * Number(scale) },
            );
            const ours = await assertParity(spec);
            expect(ours.dWeights.length).toBe(2 + Number(center) + Number(scale));
          });
        }
      }
    }

    it('moving statistics after one training step', async () => {
      const spec = parityCase([{ class_name: 'BatchNormalization', config: {} }], [4, 6, 3], {
        training: true,
        seed: 5,
      });
      const model = Sequential.fromSpec(spec.layers);
      model.build(spec.input.shape.slice(1));
      model.setWeights(spec.weights);
      model.forwardTrain(spec.input);
      const after = model.getWeights();
      const ref = await tfjsReference(spec);
      ['gamma', 'beta', 'moving_mean', 'moving_variance'].forEach((name, i) => {
        assertAllClose(name, after[i], ref.weightsAfter[i]);
      });
      // The update really happened (moving_mean differs from what was loaded).
      expect([...after[2].data]).not.toEqual([...spec.weights[2].data]);
    });
  });

  it('updates moving statistics with momentum and the biased batch variance', () => {
    const layer = new BatchNormalization({ momentum: 0.75 }, ctx);
    layer.build([2]);
    const [, , mean, variance] = layer.weights;
    mean.value.set([1, 2]);
    variance.value.set([3, 4]);
    // Channel 0: 0, 2, 4, 6 → mean 3, biased variance 5. Channel 1: all 1 → mean 1, variance 0.
    layer.forwardTrain({ shape: [2, 2, 2], data: Float32Array.from([0, 1, 2, 1, 4, 1, 6, 1]) });
    expect([...mean.value]).toEqual([0.75 * 1 + 0.25 * 3, 0.75 * 2 + 0.25 * 1]);
    expect([...variance.value]).toEqual([0.75 * 3 + 0.25 * 5, 0.75 * 4 + 0.25 * 0]);
    layer.forward({ shape: [1, 2], data: Float32Array.from([0, 0]) });
    expect(mean.value[0]).toBe(1.5); // inference leaves them alone
  });

  describe('agrees with float64 central finite differences', () => {
    for (const [center, scale] of [
      [true, true],
      [false, true],
      [true, false],
      [false, false],
    ]) {
      for (const trainable of [true, false]) {
        it(`center ${center} scale ${scale}, ${trainable ? 'batch statistics' : 'frozen (moving statistics)'}`, () => {
          const { layer, random } = randomBn(
            { center, scale, trainable },
            3,
            1 + Number(center) + 2 * Number(scale),
          );
          assertGradients(
            layer,
            randomTensor([2, 4, 3], random, 'float64', 2),
            randomTensor([2, 4, 3], random),
          );
        });
      }
    }
  });

  it('frozen (trainable false) runs in inference mode inside forwardTrain, as in TF2 Keras', () => {
    const { layer, random } = randomBn({ trainable: false }, 3, 9);
    const x = randomTensor([4, 3], random);
    const before = layer.weights.map((w) => [...w.value]);
    const inference = { shape: [4, 3], data: layer.forward(x).data.slice() };
    assertAllClose('forwardTrain', layer.forwardTrain(x), inference, { atol: 1e-14, rtol: 1e-12 });
    expect(layer.weights.map((w) => [...w.value])).toEqual(before);
  });

  it('round-trips its config and accepts Keras 2 axis forms', () => {
    const config = {
      name: 'bn',
      trainable: true,
      axis: -1,
      momentum: 0.9,
      epsilon: 0.01,
      center: false,
      scale: true,
    };
    const layer = layerFromSpec({ class_name: 'BatchNormalization', config }, ctx);
    expect(layer.getConfig()).toEqual(config);
    expect(
      layerFromSpec({ class_name: 'BatchNormalization', config: layer.getConfig() }, ctx).getConfig(),
    ).toEqual(config);
    expect(layer.build([5, 7])).toEqual([5, 7]);
    expect(layer.weights.map((w) => [w.name, w.trainable])).toEqual([
      ['gamma', true],
      ['moving_mean', false],
      ['moving_variance', false],
    ]);
    // Keras 2 saves axis as [rank − 1] after build.
    expect(BatchNormalization.fromConfig({ axis: [2] }, ctx).build([5, 7])).toEqual([5, 7]);
    expect(() => BatchNormalization.fromConfig({ axis: [1], name: 'b1' }, ctx).build([5, 7])).toThrow(
      /BatchNormalization "b1": axis 1 on input shape \[batch, 5, 7\]; only the last axis is supported/,
    );
    expect(() => BatchNormalization.fromConfig({ renorm: true }, ctx)).toThrow(/renorm must be false/);
    expect(() => BatchNormalization.fromConfig({ momentum: 2 }, ctx)).toThrow(/momentum must be in \[0, 1\]/);
  });

  it('starts from Keras initial values', () => {
    const layer = new BatchNormalization({}, ctx);
    layer.build([2]);
    const values = layer.weights.map((w) => [...w.value]);
    expect(values).toEqual([
      [1, 1],
      [0, 0],
      [0, 0],
      [1, 1],
    ]);
    const y: Tensor = layer.forward({ shape: [1, 2], data: Float32Array.from([1, -1]) });
    expect(y.data[0]).toBeCloseTo(1 / Math.sqrt(1 + 1e-3), 6);
  });
});
