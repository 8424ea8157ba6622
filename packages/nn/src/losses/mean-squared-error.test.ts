import { describe, expect, it } from 'vitest';
import { assertClose } from '../../test/assert-close.ts';
import { seededRandom } from '../../test/finite-diff.ts';
import { centralDifferences, tfCpu, tfjsLoss, uniformTensor } from '../../test/loss-check.ts';
import type { Tensor } from '../tensor.ts';
import { MeanSquaredError } from './mean-squared-error.ts';

const random = seededRandom(5);

const uniform = (shape: number[], lo: number, hi: number, dtype: 'float32' | 'float64' = 'float32'): Tensor =>
  uniformTensor(random, shape, lo, hi, dtype);

describe('MeanSquaredError', () => {
  it('gives the Keras documentation values 0.5, and 0.25 with sample_weight [0.7, 0.3]', () => {
    const yTrue: Tensor = { shape: [2, 2], data: Float32Array.of(0, 1, 0, 0) };
    const yPred: Tensor = { shape: [2, 2], data: Float32Array.of(1, 1, 1, 0) };
    const mse = new MeanSquaredError();
    expect(mse.value(yTrue, yPred)).toBeCloseTo(0.5, 6);
    expect(mse.value(yTrue, yPred, { shape: [2], data: Float32Array.of(0.7, 0.3) })).toBeCloseTo(0.25, 6);
  });

  it('matches tfjs value and gradient with per-frame weights', async () => {
    const t = await tfCpu();
    const yTrue = uniform([2, 5, 3], -1, 1);
    const yPred = uniform([2, 5, 3], -2, 2);
    const weights = uniform([2, 5], 0, 1);
    const ours = new MeanSquaredError().valueAndGrad(yTrue, yPred, weights);
    const ref = await tfjsLoss((y, p) => t.metrics.meanSquaredError(y, p), yTrue, yPred, weights.data);
    assertClose('loss', [ours.value], [ref.value], { rtol: 1e-5, atol: 1e-6 });
    assertClose('dPred', ours.dPred.data, ref.dPred, { rtol: 1e-4, atol: 1e-6 });
  });

  it('agrees with float64 finite differences', () => {
    const yTrue = uniform([4, 3], -1, 1, 'float64');
    const yPred = uniform([4, 3], -1, 1, 'float64');
    const weights = uniform([4], 0, 2, 'float64');
    const mse = new MeanSquaredError();
    const analytic = Float64Array.from(mse.valueAndGrad(yTrue, yPred, weights).dPred.data);
    const numeric = centralDifferences(() => mse.value(yTrue, yPred, weights), yPred.data);
    assertClose('dPred', analytic, numeric, { rtol: 1e-6, atol: 1e-9 });
  });
});
