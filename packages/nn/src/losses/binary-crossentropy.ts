import type { FloatArray } from '../tensor.ts';
import { clipBounds, KERAS_EPSILON, RowLoss } from './loss.ts';

/** Weights of the two classes, as Keras' `class_weight={0: negative, 1: positive}` in `fit`. */
export interface ClassWeights {
  /** Weight of elements whose target is positive (rounds to 1). */
  positive: number;
  /** Weight of elements whose target is negative (rounds to 0). */
  negative: number;
}

export interface BinaryCrossentropyArgs {
  /** yPred holds logits (any real) instead of probabilities; the stable formulation is used. Default false. */
  fromLogits?: boolean;
  /**
   * Multiplies each element's loss by `positive` where its target is > 0.5 and by `negative` elsewhere,
   * on top of any sample weight. Default: none (both 1).
   *
   * Keras: `class_weight` in `fit` picks one weight per sample from `round(y)` (argmax for several
   * outputs). Here it applies per element, which is the same thing for the usual `[batch, time, 1]` frame
   * targets; tf.round sends 0.5 to 0 (half to even), hence "> 0.5".
   */
  classWeights?: ClassWeights;
}

export const BCE_DEFAULT_FROM_LOGITS = false;

/**
 * Keras `binary_crossentropy`: element losses averaged over the last axis, then `sum_over_batch_size` (see
 * `Loss` for how sample weights enter the mean).
 *
 * From probabilities, as Keras: p is clipped to [1e-7, 1 − 1e-7] (bounds rounded to yPred's dtype) and
 * ℓ = −(t·ln p + (1 − t)·ln(1 − p)); the gradient is zero where p was clipped, like `clip_by_value`'s.
 * From logits z: ℓ = max(z, 0) − z·t + ln(1 + e^(−|z|)), ∂ℓ/∂z = σ(z) − t (TF's
 * `sigmoid_cross_entropy_with_logits`), exact for any z.
 *
 * Keras: when y_pred comes straight out of a `sigmoid`, Keras quietly recovers the logits and uses the
 * stable form. Here yPred means what `fromLogits` says; train on logits for the stable form.
 */
export class BinaryCrossentropy extends RowLoss {
  readonly name = 'binary_crossentropy';
  readonly fromLogits: boolean;
  readonly classWeights: ClassWeights | undefined;

  constructor(args: BinaryCrossentropyArgs = {}) {
    super();
    this.fromLogits = args.fromLogits ?? BCE_DEFAULT_FROM_LOGITS;
    const cw = args.classWeights;
    if (cw !== undefined) {
      for (const key of ['positive', 'negative'] as const) {
        if (!Number.isFinite(cw[key]) || cw[key] < 0) {
          throw new RangeError(
            `binary_crossentropy: classWeights.${key} must be a finite number >= 0, got ${cw[key]}`,
          );
        }
      }
      this.classWeights = { positive: cw.positive, negative: cw.negative };
    }
  }

  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = {
      name: this.name,
      reduction: 'sum_over_batch_size',
      from_logits: this.fromLogits,
    };
    if (this.classWeights)
      config.class_weight = { 0: this.classWeights.negative, 1: this.classWeights.positive };
    return config;
  }

  protected rowLoss(
    yTrue: FloatArray,
    yPred: FloatArray,
    offset: number,
    n: number,
    dPred: FloatArray | undefined,
    scale: number,
  ): number {
    const cw = this.classWeights;
    // The row loss is a mean over the last axis.
    const elemScale = scale / n;
    let sum = 0;
    if (this.fromLogits) {
      for (let i = offset; i < offset + n; i++) {
        const t = yTrue[i];
        const z = yPred[i];
        const c = cw ? (t > 0.5 ? cw.positive : cw.negative) : 1;
        sum += c * (Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))));
        if (dPred) {
          const sigmoid = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
          dPred[i] = elemScale * c * (sigmoid - t);
        }
      }
    } else {
      const { lo, hi } = clipBounds(yPred, KERAS_EPSILON);
      for (let i = offset; i < offset + n; i++) {
        const t = yTrue[i];
        const raw = yPred[i];
        const p = Math.min(Math.max(raw, lo), hi);
        const c = cw ? (t > 0.5 ? cw.positive : cw.negative) : 1;
        sum -= c * (t * Math.log(p) + (1 - t) * Math.log(1 - p));
        if (dPred) {
          // ∂ℓ/∂p = −t/p + (1 − t)/(1 − p) inside the clip range (inclusive, like clip_by_value's gradient).
          dPred[i] = raw >= lo && raw <= hi ? elemScale * c * ((1 - t) / (1 - p) - t / p) : 0;
        }
      }
    }
    return sum / n;
  }
}
