import {
  allocate,
  dtypeOf,
  type FloatArray,
  formatShape,
  ShapeError,
  shapesEqual,
  type Tensor,
} from '../tensor.ts';

/** The loss value and its gradient with respect to the prediction. */
export interface LossResult {
  /** The reduced (scalar) loss. */
  value: number;
  /**
   * ∂value/∂yPred, shaped like yPred, in yPred's dtype. A buffer the loss reuses on its next call with the
   * same shape and dtype: copy it to keep it.
   */
  dPred: Tensor;
}

/**
 * A Keras loss with Keras' default reduction, `sum_over_batch_size`.
 *
 * Arguments come in Keras order, `(yTrue, yPred, sampleWeight?)`. yTrue and yPred have the same shape
 * `[...leading, C]`; the loss function first reduces the last axis (a mean for binary cross-entropy and MSE, a
 * sum for categorical cross-entropy), giving one value per row `l[r]`, r over the leading axes (for
 * sequences `[batch, time, C]` that is one value per frame). Then:
 *
 *   value = Σ_r w[r] · l[r] / R        R = number of rows (the product of the leading axes)
 *
 * with w[r] = 1 without sample weights. The divisor is the row count, NOT the sum of the weights: that is
 * Keras' `sum_over_batch_size` (`reduce_weighted_values` multiplies, sums, divides by the element count), so a
 * zero weight (a masked frame) still counts in R. A yPred of rank 1 is a single row.
 *
 * `sampleWeight` has the rows' shape (`[batch, time]` per-frame weights/masks for `[batch, time, 1]`
 * predictions), or that shape plus a trailing 1 (Keras squeezes it), or any leading part of it (`[batch]`
 * weights a whole sequence: each weight repeats over the axes it lacks).
 * Keras: for that last case Keras broadcasts from the trailing axes, which only works when shapes happen to
 * line up; repeating over the missing trailing axes is what per-sequence weights mean.
 */
export interface Loss {
  /** Keras function name: `binary_crossentropy`, `categorical_crossentropy`, `mean_squared_error`. */
  readonly name: string;
  /** The reduced loss, without computing the gradient. */
  value(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): number;
  /** The reduced loss and ∂loss/∂yPred. */
  valueAndGrad(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): LossResult;
  /** Keras `get_config()` (snake_case) of the loss object. */
  getConfig(): Record<string, unknown>;
}

/**
 * The shared part of every loss: shape checks, sample-weight broadcasting, the `sum_over_batch_size`
 * reduction and the reused gradient buffer. Subclasses supply the per-row function.
 */
export abstract class RowLoss implements Loss {
  abstract readonly name: string;
  /** [...yPred.shape], reused while the shape and dtype stay the same. */
  private grad: FloatArray | undefined;
  private gradShape: readonly number[] = [];

  abstract getConfig(): Record<string, unknown>;

  /**
   * Loss of one row `[offset, offset + n)` (the last axis already reduced as Keras does). When `dPred` is
   * given, writes `scale · ∂rowLoss/∂yPred[i]` for the row's n elements into it (overwriting).
   */
  protected abstract rowLoss(
    yTrue: FloatArray,
    yPred: FloatArray,
    offset: number,
    n: number,
    dPred: FloatArray | undefined,
    scale: number,
  ): number;

  value(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): number {
    return this.run(yTrue, yPred, sampleWeight, undefined);
  }

  valueAndGrad(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): LossResult {
    if (
      !this.grad ||
      dtypeOf(this.grad) !== dtypeOf(yPred.data) ||
      !shapesEqual(this.gradShape, yPred.shape)
    ) {
      this.grad = allocate(dtypeOf(yPred.data), yPred.data.length);
      this.gradShape = [...yPred.shape];
    }
    const value = this.run(yTrue, yPred, sampleWeight, this.grad);
    return { value, dPred: { shape: this.gradShape, data: this.grad } };
  }

  private run(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor | undefined, dPred: FloatArray | undefined) {
    if (!shapesEqual(yTrue.shape, yPred.shape)) {
      throw new ShapeError(
        `${this.name}: yTrue has shape ${formatShape(yTrue.shape)} but yPred has ${formatShape(yPred.shape)}; they must be equal`,
      );
    }
    if (yPred.shape.length === 0) {
      throw new ShapeError(`${this.name}: yPred must have at least 1 dimension, got a scalar`);
    }
    const n = yPred.shape[yPred.shape.length - 1];
    const total = yPred.data.length;
    const rows = n === 0 ? 0 : total / n;
    if (rows === 0) {
      // Keras divides with divide_no_nan: an empty batch has loss 0.
      dPred?.fill(0);
      return 0;
    }
    const repeat = sampleWeight ? weightRepeat(this.name, sampleWeight, yPred.shape) : 1;
    const w = sampleWeight?.data;
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const weight = w ? w[Math.floor(r / repeat)] : 1;
      sum += weight * this.rowLoss(yTrue.data, yPred.data, r * n, n, dPred, weight / rows);
    }
    return sum / rows;
  }
}

/**
 * How many consecutive rows share one sample weight, after checking that the weight's shape is the rows'
 * shape, the rows' shape plus a trailing 1, or a leading part of the rows' shape.
 */
function weightRepeat(name: string, sampleWeight: Tensor, predShape: readonly number[]): number {
  const rowShape = predShape.slice(0, -1);
  let ws = sampleWeight.shape;
  if (ws.length === rowShape.length + 1 && ws[ws.length - 1] === 1) ws = ws.slice(0, -1);
  const leading = ws.length <= rowShape.length && ws.every((d, i) => d === rowShape[i]);
  if (!leading) {
    throw new ShapeError(
      `${name}: sampleWeight has shape ${formatShape(sampleWeight.shape)} but yPred ${formatShape(predShape)} ` +
        `needs per-row weights of shape ${formatShape(rowShape)} (or a leading part of it)`,
    );
  }
  let repeat = 1;
  for (let i = ws.length; i < rowShape.length; i++) repeat *= rowShape[i];
  return repeat;
}

/**
 * Keras clips probabilities to [ε, 1 − ε] in the tensor's own dtype: in float32, 1 − 1e-7 rounds to
 * 0.99999988, and log(1 − that) is what Keras computes, so the bound is rounded the same way here.
 */
export function clipBounds(data: FloatArray, epsilon: number): { lo: number; hi: number } {
  if (data instanceof Float32Array) return { lo: Math.fround(epsilon), hi: Math.fround(1 - epsilon) };
  return { lo: epsilon, hi: 1 - epsilon };
}

/** Keras' `backend.epsilon()`, the fuzz factor of the probability clipping. */
export const KERAS_EPSILON = 1e-7;
