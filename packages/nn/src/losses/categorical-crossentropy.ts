import type { FloatArray } from '../tensor.ts';
import { clipBounds, KERAS_EPSILON, RowLoss } from './loss.ts';

export interface CategoricalCrossentropyArgs {
  /** yPred holds logits; the loss applies a log-softmax over the last axis (stable). Default false. */
  fromLogits?: boolean;
}

export const CCE_DEFAULT_FROM_LOGITS = false;

/**
 * Keras `categorical_crossentropy` over the last axis (classes), then `sum_over_batch_size` over the rows
 * (see `Loss` for sample weights).
 *
 * From probabilities, as Keras: each row is renormalized to sum 1, q = p / Σp, clipped to [1e-7, 1 − 1e-7]
 * (bounds rounded to yPred's dtype), ℓ = −Σ t·ln q. The gradient flows through the renormalization and is
 * zero for clipped entries: with g_j = −t_j / q_j (0 where clipped), ∂ℓ/∂p_k = (g_k − Σ_j g_j q_j) / Σp.
 * From logits z: ℓ = Σt · logsumexp(z) − Σ t·z and ∂ℓ/∂z_k = softmax(z)_k · Σt − t_k
 * (TF's `softmax_cross_entropy_with_logits`).
 */
export class CategoricalCrossentropy extends RowLoss {
  readonly name = 'categorical_crossentropy';
  readonly fromLogits: boolean;

  constructor(args: CategoricalCrossentropyArgs = {}) {
    super();
    this.fromLogits = args.fromLogits ?? CCE_DEFAULT_FROM_LOGITS;
  }

  getConfig(): Record<string, unknown> {
    return { name: this.name, reduction: 'sum_over_batch_size', from_logits: this.fromLogits };
  }

  protected rowLoss(
    yTrue: FloatArray,
    yPred: FloatArray,
    offset: number,
    n: number,
    dPred: FloatArray | undefined,
    scale: number,
  ): number {
    const end = offset + n;
    let tSum = 0;
    for (let i = offset; i < end; i++) tSum += yTrue[i];
    if (this.fromLogits) {
      let max = Number.NEGATIVE_INFINITY;
      for (let i = offset; i < end; i++) if (yPred[i] > max) max = yPred[i];
      let expSum = 0;
      for (let i = offset; i < end; i++) expSum += Math.exp(yPred[i] - max);
      const logSumExp = max + Math.log(expSum);
      let loss = 0;
      for (let i = offset; i < end; i++) {
        loss += yTrue[i] * (logSumExp - yPred[i]);
        if (dPred) dPred[i] = scale * ((Math.exp(yPred[i] - max) / expSum) * tSum - yTrue[i]);
      }
      return loss;
    }
    const { lo, hi } = clipBounds(yPred, KERAS_EPSILON);
    let pSum = 0;
    for (let i = offset; i < end; i++) pSum += yPred[i];
    let loss = 0;
    // Σ_j g_j q_j, needed by every element's gradient.
    let gq = 0;
    for (let i = offset; i < end; i++) {
      const q = yPred[i] / pSum;
      const c = Math.min(Math.max(q, lo), hi);
      loss -= yTrue[i] * Math.log(c);
      if (dPred) {
        const g = q >= lo && q <= hi ? -yTrue[i] / c : 0;
        // Park g_k in dPred; the second pass turns it into ∂ℓ/∂p_k.
        dPred[i] = g;
        gq += g * q;
      }
    }
    if (dPred) for (let i = offset; i < end; i++) dPred[i] = (scale * (dPred[i] - gq)) / pSum;
    return loss;
  }
}
