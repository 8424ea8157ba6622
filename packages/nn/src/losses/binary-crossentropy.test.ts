import type * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertClose } from '../../test/assert-close.ts';
import { seededRandom } from '../../test/finite-diff.ts';
import { centralDifferences, tfCpu, tfjsLoss, uniformTensor } from '../../test/loss-check.ts';
import { ShapeError, type Tensor } from '../tensor.ts';
import { BinaryCrossentropy } from './binary-crossentropy.ts';

const random = seededRandom(7);

const uniform = (shape: number[], lo: number, hi: number, dtype: 'float32' | 'float64' = 'float32'): Tensor =>
  uniformTensor(random, shape, lo, hi, dtype);

function labels(shape: number[], soft = false, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const t = uniform(shape, 0, 1, dtype);
  if (!soft) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] < 0.4 ? 1 : 0;
  return t;
}

const tfBceProbs = (t: typeof tf) => (y: tf.Tensor, p: tf.Tensor) => t.metrics.binaryCrossentropy(y, p);
const tfBceLogits = (t: typeof tf) => (y: tf.Tensor, z: tf.Tensor) =>
  t.losses.sigmoidCrossEntropy(y, z, undefined, 0, t.Reduction.NONE).mean(-1);

describe('BinaryCrossentropy against Keras documentation values', () => {
  // keras.losses.BinaryCrossentropy docstring: y_true [[0,1],[0,0]], y_pred [[0.6,0.4],[0.4,0.6]].
  const yTrue: Tensor = { shape: [2, 2], data: Float32Array.of(0, 1, 0, 0) };
  const yPred: Tensor = { shape: [2, 2], data: Float32Array.of(0.6, 0.4, 0.4, 0.6) };

  it('gives 0.815, and 0.458 with sample_weight [1, 0] (divided by the row count, not the weight sum)', () => {
    const bce = new BinaryCrossentropy();
    expect(bce.value(yTrue, yPred)).toBeCloseTo(0.815, 3);
    expect(bce.value(yTrue, yPred, { shape: [2], data: Float32Array.of(1, 0) })).toBeCloseTo(0.458, 3);
  });
});

describe('BinaryCrossentropy from probabilities against tfjs', () => {
  it('matches value and gradient with per-frame weights on [batch, time, 1]', async () => {
    const t = await tfCpu();
    const yTrue = labels([3, 7, 1], true);
    const yPred = uniform([3, 7, 1], 0.02, 0.98);
    const weights = uniform([3, 7], 0, 2);
    const ours = new BinaryCrossentropy().valueAndGrad(yTrue, yPred, weights);
    const ref = await tfjsLoss(tfBceProbs(t), yTrue, yPred, weights.data);
    assertClose('loss', [ours.value], [ref.value], { rtol: 1e-5, atol: 1e-6 });
    expect(ours.dPred.shape).toEqual([3, 7, 1]);
    expect(ours.dPred.data).toBeInstanceOf(Float32Array);
    assertClose('dPred', ours.dPred.data, ref.dPred, { rtol: 1e-4, atol: 1e-6 });
  });

  it('averages over a last axis of several outputs, as Keras does before the batch mean', async () => {
    const t = await tfCpu();
    const yTrue = labels([4, 3]);
    const yPred = uniform([4, 3], 0.05, 0.95);
    const ours = new BinaryCrossentropy().valueAndGrad(yTrue, yPred);
    const ref = await tfjsLoss(tfBceProbs(t), yTrue, yPred);
    assertClose('loss', [ours.value], [ref.value], { rtol: 1e-5, atol: 1e-6 });
    assertClose('dPred', ours.dPred.data, ref.dPred, { rtol: 1e-4, atol: 1e-6 });
  });

  it('clips to [1e-7, 1 - 1e-7] in float32 like Keras, with zero gradient outside the range', async () => {
    const t = await tfCpu();
    const yTrue: Tensor = { shape: [6, 1], data: Float32Array.of(0, 1, 1, 0, 1, 0) };
    const yPred: Tensor = { shape: [6, 1], data: Float32Array.of(1, 0, 1e-9, 1 - 1e-9, 0.5, 0.25) };
    const ours = new BinaryCrossentropy().valueAndGrad(yTrue, yPred);
    const ref = await tfjsLoss(tfBceProbs(t), yTrue, yPred);
    // log(1 - float32(1 - 1e-7)) = log(1.19e-7), not log(1e-7): only the float32-rounded bound matches.
    assertClose('loss', [ours.value], [ref.value], { rtol: 1e-6, atol: 0 });
    expect([...ours.dPred.data.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    assertClose('dPred', ours.dPred.data, ref.dPred, { rtol: 1e-4, atol: 1e-6 });
  });

  it('broadcasts [batch] weights over time and squeezes [batch, time, 1] weights', async () => {
    const t = await tfCpu();
    const yTrue = labels([2, 5, 1]);
    const yPred = uniform([2, 5, 1], 0.1, 0.9);
    const bce = new BinaryCrossentropy();
    const perSequence = bce.value(yTrue, yPred, { shape: [2], data: Float32Array.of(0.25, 3) });
    const expanded = Float32Array.from({ length: 10 }, (_, i) => (i < 5 ? 0.25 : 3));
    const ref = await tfjsLoss(tfBceProbs(t), yTrue, yPred, expanded);
    assertClose('per-sequence', [perSequence], [ref.value], { rtol: 1e-5, atol: 1e-6 });
    const squeezed = bce.value(yTrue, yPred, { shape: [2, 5, 1], data: expanded });
    assertClose('trailing 1', [squeezed], [ref.value], { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('BinaryCrossentropy from logits against tfjs', () => {
  it('matches tf.losses.sigmoidCrossEntropy, finite for logits of ±100', async () => {
    const t = await tfCpu();
    const yTrue = labels([2, 6, 1], true);
    const yPred = uniform([2, 6, 1], -6, 6);
    yPred.data.set([100, -100, 40, -40], 0);
    const weights = uniform([2, 6], 0, 1);
    const ours = new BinaryCrossentropy({ fromLogits: true }).valueAndGrad(yTrue, yPred, weights);
    const ref = await tfjsLoss(tfBceLogits(t), yTrue, yPred, weights.data);
    expect(Number.isFinite(ours.value)).toBe(true);
    assertClose('loss', [ours.value], [ref.value], { rtol: 1e-5, atol: 1e-6 });
    assertClose('dPred', ours.dPred.data, ref.dPred, { rtol: 1e-4, atol: 1e-6 });
  });

  it('equals the probability form where no clipping happens', () => {
    const yTrue = labels([5, 2], true, 'float64');
    const logits = uniform([5, 2], -4, 4, 'float64');
    const probs: Tensor = { shape: [5, 2], data: logits.data.map((z) => 1 / (1 + Math.exp(-z))) };
    const a = new BinaryCrossentropy({ fromLogits: true }).value(yTrue, logits);
    const b = new BinaryCrossentropy().value(yTrue, probs);
    expect(Math.abs(a - b)).toBeLessThan(1e-12);
  });
});

describe('BinaryCrossentropy class weights', () => {
  it('weight each frame by its class on top of sample weights (tfjs with the equivalent weights)', async () => {
    const t = await tfCpu();
    const yTrue = labels([3, 4, 1]);
    const yPred = uniform([3, 4, 1], 0.05, 0.95);
    const sw = uniform([3, 4], 0.5, 1.5);
    const classWeights = { positive: 4, negative: 0.5 };
    const rowWeights = sw.data.map((w, i) => w * (yTrue.data[i] > 0.5 ? 4 : 0.5));
    for (const fromLogits of [false, true]) {
      const ours = new BinaryCrossentropy({ fromLogits, classWeights }).valueAndGrad(yTrue, yPred, sw);
      const ref = await tfjsLoss(fromLogits ? tfBceLogits(t) : tfBceProbs(t), yTrue, yPred, rowWeights);
      assertClose(`loss fromLogits=${fromLogits}`, [ours.value], [ref.value], { rtol: 1e-5, atol: 1e-6 });
      assertClose(`dPred fromLogits=${fromLogits}`, ours.dPred.data, ref.dPred, { rtol: 1e-4, atol: 1e-6 });
    }
  });

  it('rejects negative or non-finite class weights', () => {
    expect(() => new BinaryCrossentropy({ classWeights: { positive: -1, negative: 1 } })).toThrow(
      'classWeights.positive must be a finite number >= 0, got -1',
    );
    expect(() => new BinaryCrossentropy({ classWeights: { positive: 1, negative: Number.NaN } })).toThrow(
      'classWeights.negative',
    );
  });
});

describe('BinaryCrossentropy gradient by float64 finite differences', () => {
  const cases = [
    { name: 'probabilities', args: {}, lo: 0.05, hi: 0.95 },
    { name: 'logits', args: { fromLogits: true }, lo: -5, hi: 5 },
    {
      name: 'logits + class weights',
      args: { fromLogits: true, classWeights: { positive: 3, negative: 0.7 } },
      lo: -5,
      hi: 5,
    },
    {
      name: 'probabilities + class weights',
      args: { classWeights: { positive: 2, negative: 0.25 } },
      lo: 0.05,
      hi: 0.95,
    },
  ];
  for (const c of cases) {
    it(`agrees for ${c.name}, soft labels, per-frame weights, last axis 2`, () => {
      const yTrue = labels([2, 3, 2], true, 'float64');
      const yPred = uniform([2, 3, 2], c.lo, c.hi, 'float64');
      const weights = uniform([2, 3], 0, 2, 'float64');
      const bce = new BinaryCrossentropy(c.args);
      const analytic = Float64Array.from(bce.valueAndGrad(yTrue, yPred, weights).dPred.data);
      const numeric = centralDifferences(() => bce.value(yTrue, yPred, weights), yPred.data);
      assertClose('dPred', analytic, numeric, { rtol: 1e-6, atol: 1e-9 });
    });
  }
});

describe('BinaryCrossentropy shapes', () => {
  it('reuses its gradient buffer for the same shape and reallocates for a new one', () => {
    const bce = new BinaryCrossentropy();
    const a = bce.valueAndGrad(labels([2, 1]), uniform([2, 1], 0.1, 0.9)).dPred.data;
    const b = bce.valueAndGrad(labels([2, 1]), uniform([2, 1], 0.1, 0.9)).dPred.data;
    expect(b).toBe(a);
    const c = bce.valueAndGrad(labels([3, 1]), uniform([3, 1], 0.1, 0.9)).dPred.data;
    expect(c).not.toBe(a);
    expect(c.length).toBe(3);
  });

  it('names both shapes when yTrue and yPred differ, and the expected weight shape', () => {
    const bce = new BinaryCrossentropy();
    expect(() => bce.value(labels([2, 3, 1]), uniform([2, 4, 1], 0, 1))).toThrow(
      new ShapeError(
        'binary_crossentropy: yTrue has shape [2, 3, 1] but yPred has [2, 4, 1]; they must be equal',
      ),
    );
    expect(() => bce.value(labels([2, 3, 1]), uniform([2, 3, 1], 0, 1), uniform([3], 0, 1))).toThrow(
      'sampleWeight has shape [3] but yPred [2, 3, 1] needs per-row weights of shape [2, 3]',
    );
  });

  it('is 0 for an empty batch', () => {
    const r = new BinaryCrossentropy().valueAndGrad(labels([0, 5, 1]), uniform([0, 5, 1], 0, 1));
    expect(r.value).toBe(0);
  });

  it('reports its Keras config', () => {
    expect(
      new BinaryCrossentropy({ fromLogits: true, classWeights: { positive: 3, negative: 1 } }).getConfig(),
    ).toEqual({
      name: 'binary_crossentropy',
      reduction: 'sum_over_batch_size',
      from_logits: true,
      class_weight: { 0: 1, 1: 3 },
    });
  });
});
