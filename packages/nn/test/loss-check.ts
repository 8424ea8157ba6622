/**
 * Test helpers for losses and optimizers: comparing arrays with the parity tolerance, central finite
 * differences of a scalar function of one array, and evaluating a loss in tfjs with `tf.grad`.
 */
import * as tf from '@tensorflow/tfjs';
import type { FloatArray, Tensor } from '../src/tensor.ts';

/**
 * Central differences of `f` with respect to every element of `x` (restored afterwards):
 * (f(x + eps·e_i) − f(x − eps·e_i)) / 2eps.
 */
export function centralDifferences(f: () => number, x: FloatArray, eps = 1e-6): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + eps;
    const plus = f();
    x[i] = saved - eps;
    const minus = f();
    x[i] = saved;
    out[i] = (plus - minus) / (2 * eps);
  }
  return out;
}

let cpuReady: Promise<unknown> | undefined;

/** tfjs on its cpu backend (float32), the reference the parity tests compare with. */
export async function tfCpu(): Promise<typeof tf> {
  cpuReady ??= tf.setBackend('cpu').then(() => tf.ready());
  await cpuReady;
  return tf;
}

/**
 * Keras' `sum_over_batch_size` in tfjs: `perRow(yTrue, yPred)` gives one loss per row (last axis reduced),
 * multiplied by `rowWeights` (already broadcast to the rows, or none), summed, divided by the row count.
 * Returns the value and ∂value/∂yPred from `tf.grad`.
 */
export async function tfjsLoss(
  perRow: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor,
  yTrue: Tensor,
  yPred: Tensor,
  rowWeights?: ArrayLike<number>,
): Promise<{ value: number; dPred: Float32Array }> {
  const t = await tfCpu();
  return t.tidy(() => {
    const truth = t.tensor(Float32Array.from(yTrue.data), [...yTrue.shape]);
    const pred = t.tensor(Float32Array.from(yPred.data), [...yPred.shape]);
    const reduce = (p: tf.Tensor): tf.Scalar => {
      const rows = perRow(truth, p).flatten();
      const weighted = rowWeights ? rows.mul(t.tensor1d(Float32Array.from(rowWeights))) : rows;
      return weighted.sum().div(t.scalar(rows.size)) as tf.Scalar;
    };
    const value = reduce(pred).dataSync()[0];
    const dPred = t
      .grad((p: tf.Tensor) => reduce(p))(pred)
      .dataSync() as Float32Array;
    return { value, dPred: Float32Array.from(dPred) };
  });
}

/** A tensor of values uniform in [lo, hi) drawn from `random` (e.g. `seededRandom` of finite-diff.ts). */
export function uniformTensor(
  random: () => number,
  shape: number[],
  lo: number,
  hi: number,
  dtype: 'float32' | 'float64' = 'float32',
): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * random();
  return { shape, data };
}
