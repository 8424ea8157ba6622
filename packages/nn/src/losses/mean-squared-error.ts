import type { FloatArray } from '../tensor.ts';
import { RowLoss } from './loss.ts';

/**
 * Keras `mean_squared_error`: ℓ = mean over the last axis of (p − t)², then `sum_over_batch_size` over the
 * rows (see `Loss` for sample weights). ∂ℓ/∂p = 2(p − t)/C for a last axis of size C.
 */
export class MeanSquaredError extends RowLoss {
  readonly name = 'mean_squared_error';

  getConfig(): Record<string, unknown> {
    return { name: this.name, reduction: 'sum_over_batch_size' };
  }

  protected rowLoss(
    yTrue: FloatArray,
    yPred: FloatArray,
    offset: number,
    n: number,
    dPred: FloatArray | undefined,
    scale: number,
  ): number {
    let sum = 0;
    const gradScale = (2 * scale) / n;
    for (let i = offset; i < offset + n; i++) {
      const d = yPred[i] - yTrue[i];
      sum += d * d;
      if (dPred) dPred[i] = gradScale * d;
    }
    return sum / n;
  }
}
