import type { FloatArray } from '../../tensor.ts';
import { LayerConfigError } from '../registry.ts';

/** Keras names of the activations a recurrent cell accepts for `activation` / `recurrent_activation`. */
export type RecurrentActivationName = 'tanh' | 'sigmoid' | 'hard_sigmoid' | 'relu' | 'linear';

const NAMES: readonly RecurrentActivationName[] = ['tanh', 'sigmoid', 'hard_sigmoid', 'relu', 'linear'];

/**
 * An elementwise activation whose derivative is a function of its *output*, so a cell's forward pass only
 * has to save post-activation values for backward: tanh' = 1 − y², sigmoid' = y(1 − y), relu' = [y > 0],
 * hard_sigmoid' = 0.2·[0 < y < 1], linear' = 1.
 */
export interface RecurrentActivation {
  readonly name: RecurrentActivationName;
  /** f(x) for one value. */
  fn(x: number): number;
  /** a[off .. off+n) = f(a[off .. off+n)), in place. */
  apply(a: FloatArray, off: number, n: number): void;
  /** f'(x) written as a function of y = f(x). */
  derivative(y: number): number;
}

/** Keras 2 `hard_sigmoid`: clip(0.2·x + 0.5, 0, 1) (tfjs-layers uses the same slope and shift). */
const HARD_SIGMOID_SLOPE = 0.2;
const HARD_SIGMOID_SHIFT = 0.5;

const ACTIVATIONS: Record<RecurrentActivationName, RecurrentActivation> = {
  tanh: {
    name: 'tanh',
    fn: Math.tanh,
    apply(a, off, n) {
      for (let i = off; i < off + n; i++) a[i] = Math.tanh(a[i]);
    },
    derivative: (y) => 1 - y * y,
  },
  sigmoid: {
    name: 'sigmoid',
    fn: (x) => sigmoid(x),
    apply(a, off, n) {
      for (let i = off; i < off + n; i++) a[i] = sigmoid(a[i]);
    },
    derivative: (y) => y * (1 - y),
  },
  hard_sigmoid: {
    name: 'hard_sigmoid',
    fn: (x) => Math.min(1, Math.max(0, HARD_SIGMOID_SLOPE * x + HARD_SIGMOID_SHIFT)),
    apply(a, off, n) {
      for (let i = off; i < off + n; i++) {
        a[i] = Math.min(1, Math.max(0, HARD_SIGMOID_SLOPE * a[i] + HARD_SIGMOID_SHIFT));
      }
    },
    derivative: (y) => (y > 0 && y < 1 ? HARD_SIGMOID_SLOPE : 0),
  },
  relu: {
    name: 'relu',
    fn: (x) => Math.max(x, 0),
    apply(a, off, n) {
      for (let i = off; i < off + n; i++) if (a[i] < 0) a[i] = 0;
    },
    derivative: (y) => (y > 0 ? 1 : 0),
  },
  linear: {
    name: 'linear',
    fn: (x) => x,
    apply() {},
    derivative: () => 1,
  },
};

/** Numerically safe logistic: never evaluates exp of a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Resolves a Keras activation name; `key` names the config field for the error message. */
export function recurrentActivation(name: unknown, key: string): RecurrentActivation {
  if (typeof name === 'string' && (NAMES as readonly string[]).includes(name)) {
    return ACTIVATIONS[name as RecurrentActivationName];
  }
  throw new LayerConfigError(`${key} must be one of ${NAMES.join(', ')}; received ${JSON.stringify(name)}`);
}
