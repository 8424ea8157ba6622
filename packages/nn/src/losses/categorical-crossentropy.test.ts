import type * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../test/assert-close.ts';
import { seededRandom } from '../../test/finite-diff.ts';
import { centralDifferences, tfCpu, tfjsLoss, uniformTensor } from '../../test/loss-check.ts';
import type { Tensor } from '../tensor.ts';
import { CategoricalCrossentropy } from './categorical-crossentropy.ts';

const random = seededRandom(11);

const uniform = (shape: number[], lo: number, hi: number, dtype: 'float32' | 'float64' = 'float32'): Tensor =>
  uniformTensor(random, shape, lo, hi, dtype);

/** Rows of positive numbers (not normalized: the loss renormalizes, as Keras does). */
function probabilities(shape: number[], dtype: 'float32' | 'float64' = 'float32'): Tensor {
  return uniform(shape, 0.05, 1, dtype);
}

function oneHot(shape: number[], dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const t = uniform(shape, 0, 0, dtype);
  const c = shape[shape.length - 1];
  for (let r = 0; r < t.data.length / c; r++) t.data[r * c + Math.floor(random() * c)] = 1;
  return t;
}

const tfCce = (t: typeof tf) => (y: tf.Tensor, p: tf.Tensor) => t.metrics.categoricalCrossentropy(y, p);
const tfCceLogits = (t: typeof tf) => (y: tf.Tensor, z: tf.Tensor) =>
  t.losses.softmaxCrossEntropy(y, z, undefined, 0, t.Reduction.NONE);

describe('CategoricalCrossentropy against Keras documentation values', () => {
  it('gives 1.177, and 0.814 with sample_weight [0.3, 0.7]', () => {
    const yTrue: Tensor = { shape: [2, 3], data: Float32Array.of(0, 1, 0, 0, 0, 1) };
    const yPred: Tensor = { shape: [2, 3], data: Float32Array.of(0.05, 0.95, 0, 0.1, 0.8, 0.1) };
    const cce = new CategoricalCrossentropy();
    expect(cce.value(yTrue, yPred)).toBeCloseTo(1.177, 3);
    expect(cce.value(yTrue, yPred, { shape: [2], data: Float32Array.of(0.3, 0.7) })).toBeCloseTo(0.814, 3);
  });
});

describe('CategoricalCrossentropy against tfjs', () => {
  it('matches from probabilities (unnormalized rows, a clipped zero, per-frame weights)', async () => {
    const t = await tfCpu();
    const yTrue = uniform([2, 4, 5], 0, 1);
    const yPred = probabilities([2, 4, 5]);
    yPred.data[3] = 0;
    const weights = uniform([2, 4], 0, 2);
    const ours = new CategoricalCrossentropy().valueAndGrad(yTrue, yPred, weights);
    const ref = await tfjsLoss(tfCce(t), yTrue, yPred, weights.data);
    assertClose('loss', [ours.value], [ref.value], { rtol: 1e-5, atol: 1e-6 });
    assertClose('dPred', ours.dPred.data, ref.dPred, { rtol: 1e-4, atol: 1e-6 });
  });

  it('matches from logits, including rows with large logits', async () => {
    const t = await tfCpu();
    const yTrue = oneHot([6, 4]);
    const yPred = uniform([6, 4], -5, 5);
    yPred.data.set([80, -80, 0, 30], 0);
    const ours = new CategoricalCrossentropy({ fromLogits: true }).valueAndGrad(yTrue, yPred);
    const ref = await tfjsLoss(tfCceLogits(t), yTrue, yPred);
    expect(Number.isFinite(ours.value)).toBe(true);
    assertClose('loss', [ours.value], [ref.value], { rtol: 1e-5, atol: 1e-6 });
    assertClose('dPred', ours.dPred.data, ref.dPred, { rtol: 1e-4, atol: 1e-6 });
  });
});

describe('CategoricalCrossentropy gradient by float64 finite differences', () => {
  for (const fromLogits of [false, true]) {
    it(`agrees ${fromLogits ? 'from logits' : 'from probabilities'} with soft targets and weights`, () => {
      const yTrue = uniform([3, 2, 4], 0, 1, 'float64');
      const yPred = fromLogits ? uniform([3, 2, 4], -3, 3, 'float64') : probabilities([3, 2, 4], 'float64');
      const weights = uniform([3], 0.2, 2, 'float64');
      const cce = new CategoricalCrossentropy({ fromLogits });
      const analytic = Float64Array.from(cce.valueAndGrad(yTrue, yPred, weights).dPred.data);
      const numeric = centralDifferences(() => cce.value(yTrue, yPred, weights), yPred.data);
      assertClose('dPred', analytic, numeric, { rtol: 1e-6, atol: 1e-9 });
    });
  }
});

describe('CategoricalCrossentropy config', () => {
  it('reports its Keras config', () => {
    expect(new CategoricalCrossentropy({ fromLogits: true }).getConfig()).toEqual({
      name: 'categorical_crossentropy',
      reduction: 'sum_over_batch_size',
      from_logits: true,
    });
  });
});
