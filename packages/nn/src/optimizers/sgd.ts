import type { FloatArray } from '../tensor.ts';
import { Optimizer, type OptimizerArgs, type Trainables } from './optimizer.ts';

export interface SGDArgs extends OptimizerArgs {
  /** Keras `momentum` in [0, 1]; 0 is plain gradient descent and keeps no state. Default 0. */
  momentum?: number;
  /** Keras `nesterov`: Nesterov momentum. Default false. */
  nesterov?: boolean;
}

export const SGD_DEFAULT_LEARNING_RATE = 0.01;
export const SGD_DEFAULT_MOMENTUM = 0;
export const SGD_DEFAULT_NESTEROV = false;

/**
 * Keras 3 `SGD`. With momentum μ, per element (m starts at 0):
 *   m ← μ·m − lr·g;  w ← w + m            (nesterov: w ← w + μ·m − lr·g)
 * without momentum w ← w − lr·g. (tfjs' `momentum` optimizer keeps a = μ·a + g and steps −lr·a, the
 * same sequence for a constant learning rate.)
 */
export class SGD extends Optimizer {
  readonly name = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(trainables: Trainables, args: SGDArgs = {}) {
    const momentum = args.momentum ?? SGD_DEFAULT_MOMENTUM;
    if (!(momentum >= 0 && momentum <= 1))
      throw new RangeError(`momentum must be in [0, 1], got ${momentum}`);
    super(trainables, args, SGD_DEFAULT_LEARNING_RATE, momentum === 0 ? 0 : 1);
    this.momentum = momentum;
    this.nesterov = args.nesterov ?? SGD_DEFAULT_NESTEROV;
  }

  protected slotNames(): string[] {
    return this.momentum === 0 ? [] : ['momentum'];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), momentum: this.momentum, nesterov: this.nesterov };
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
    const mu = this.momentum;
    const m = this.state;
    for (let i = 0; i < size; i++) {
      const g = Math.min(Math.max(gradScale * grad[i], -clipvalue), clipvalue);
      if (mu === 0) {
        value[i] -= lr * g;
        continue;
      }
      const mi = mu * m[offset + i] - lr * g;
      m[offset + i] = mi;
      value[i] += this.nesterov ? mu * mi - lr * g : mi;
    }
  }
}
