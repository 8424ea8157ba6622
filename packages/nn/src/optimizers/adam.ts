import type { FloatArray } from '../tensor.ts';
import { Optimizer, type OptimizerArgs, type Trainables } from './optimizer.ts';

export interface AdamArgs extends OptimizerArgs {
  /** Keras `beta_1`: decay of the first-moment estimate. Default 0.9. */
  beta1?: number;
  /** Keras `beta_2`: decay of the second-moment estimate. Default 0.999. */
  beta2?: number;
  /** Keras `epsilon`, added to √v (see the class comment for where). Default 1e-7. */
  epsilon?: number;
  /** Keras `amsgrad`: divide by the running maximum of v instead of v. Default false. */
  amsgrad?: boolean;
}

export const ADAM_DEFAULT_LEARNING_RATE = 0.001;
export const ADAM_DEFAULT_BETA_1 = 0.9;
export const ADAM_DEFAULT_BETA_2 = 0.999;
export const ADAM_DEFAULT_EPSILON = 1e-7;
export const ADAM_DEFAULT_AMSGRAD = false;

/**
 * Keras 3 `Adam`, in Keras' bias-correction form. At step t = iterations + 1, per element (m, v start at 0):
 *   α = lr · √(1 − β2^t) / (1 − β1^t)
 *   m ← m + (g − m)(1 − β1);  v ← v + (g² − v)(1 − β2);  (amsgrad: v̂ ← max(v̂, v), used for v)
 *   w ← w − α · m / (√v + ε)
 * ε is added to the uncorrected √v, as Keras does; tfjs adds it to √(v / (1 − β2^t)) instead, and its
 * default ε is the backend's (1e-7 on cpu), so set it explicitly when comparing.
 */
export class Adam extends Optimizer {
  readonly name = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;

  constructor(trainables: Trainables, args: AdamArgs = {}) {
    const amsgrad = args.amsgrad ?? ADAM_DEFAULT_AMSGRAD;
    super(trainables, args, ADAM_DEFAULT_LEARNING_RATE, amsgrad ? 3 : 2);
    this.beta1 = args.beta1 ?? ADAM_DEFAULT_BETA_1;
    this.beta2 = args.beta2 ?? ADAM_DEFAULT_BETA_2;
    this.epsilon = args.epsilon ?? ADAM_DEFAULT_EPSILON;
    this.amsgrad = amsgrad;
    for (const [key, v] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2],
    ] as const) {
      if (!(v >= 0 && v < 1)) throw new RangeError(`${key} must be in [0, 1), got ${v}`);
    }
    if (!(this.epsilon >= 0 && Number.isFinite(this.epsilon))) {
      throw new RangeError(`epsilon must be a finite number >= 0, got ${this.epsilon}`);
    }
  }

  protected slotNames(): string[] {
    return this.amsgrad ? ['momentum', 'velocity', 'velocity_hat'] : ['momentum', 'velocity'];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      beta_1: this.beta1,
      beta_2: this.beta2,
      epsilon: this.epsilon,
      amsgrad: this.amsgrad,
    };
  }

  protected updateWeight(
    value: FloatArray,
    grad: FloatArray,
    gradScale: number,
    clipvalue: number,
    offset: number,
    size: number,
    lr: number,
  ): void {
    const t = this.iterations + 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    const eps = this.epsilon;
    const s = this.state;
    // Slots of this weight: momentum, velocity[, velocity_hat], each `size` long.
    const mOff = offset;
    const vOff = offset + size;
    const hOff = offset + 2 * size;
    for (let i = 0; i < size; i++) {
      const g = Math.min(Math.max(gradScale * grad[i], -clipvalue), clipvalue);
      const m = s[mOff + i] + (g - s[mOff + i]) * (1 - b1);
      let v = s[vOff + i] + (g * g - s[vOff + i]) * (1 - b2);
      s[mOff + i] = m;
      s[vOff + i] = v;
      if (this.amsgrad) {
        v = Math.max(s[hOff + i], v);
        s[hOff + i] = v;
      }
      value[i] -= (alpha * m) / (Math.sqrt(v) + eps);
    }
  }
}
