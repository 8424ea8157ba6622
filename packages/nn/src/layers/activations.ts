import { kernels } from '../kernels/backend.ts';
import type { FloatArray } from '../tensor.ts';
import { LayerConfigError } from './registry.ts';
import { type RecurrentActivationName, recurrentActivation } from './rnn/activations.ts';

/** Keras activation names a layer's `activation` accepts: the elementwise ones plus softmax. */
export type ActivationName = RecurrentActivationName | 'softmax';

const ELEMENTWISE: readonly RecurrentActivationName[] = ['linear', 'relu', 'sigmoid', 'tanh', 'hard_sigmoid'];
const NAMES: readonly ActivationName[] = [...ELEMENTWISE, 'softmax'];

/**
 * An activation over a `[rows, cols]` block (cols = the last axis). Both directions work from the
 * *output* y, so a layer's forward pass saves only its output for backward.
 */
export interface LayerActivation {
  readonly name: ActivationName;
  /** y = f(y) in place over `rows · cols` elements; softmax normalises each row. */
  forward(y: FloatArray, rows: number, cols: number): void;
  /** dx = dy · ∂f/∂x evaluated at output y. `dx` may be `dy` itself. */
  backward(dx: FloatArray, dy: FloatArray, y: FloatArray, rows: number, cols: number): void;
}

const softmax: LayerActivation = {
  name: 'softmax',
  forward(y, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      // Subtracting the row maximum keeps exp from overflowing; the result is unchanged.
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < cols; j++) if (y[o + j] > max) max = y[o + j];
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(y[o + j] - max);
        y[o + j] = e;
        sum += e;
      }
      for (let j = 0; j < cols; j++) y[o + j] /= sum;
    }
  },
  // forward: y = exp(x) / Σ exp(x)  →  dx = y ⊙ (dy − Σ dy ⊙ y), per row.
  backward(dx, dy, y, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - dot);
    }
  },
};

function elementwise(name: RecurrentActivationName): LayerActivation {
  const f = recurrentActivation(name, 'activation');
  return {
    name,
    forward(y, rows, cols) {
      if (name !== 'linear') kernels().activate(f, y, 0, rows * cols);
    },
    backward(dx, dy, y, rows, cols) {
      if (name === 'linear') {
        if (dx !== dy) dx.set(dy.subarray(0, rows * cols));
        return;
      }
      for (let i = 0; i < rows * cols; i++) dx[i] = dy[i] * f.derivative(y[i]);
    },
  };
}

const ACTIVATIONS = new Map<ActivationName, LayerActivation>([
  ...ELEMENTWISE.map((n): [ActivationName, LayerActivation] => [n, elementwise(n)]),
  ['softmax', softmax],
]);

/** Resolves a Keras activation name; `owner` (e.g. `Dense "dense_1"`) prefixes the error message. */
export function layerActivation(name: unknown, owner: string): LayerActivation {
  const a = typeof name === 'string' ? ACTIVATIONS.get(name as ActivationName) : undefined;
  if (!a) {
    throw new LayerConfigError(
      `${owner}: activation must be one of ${NAMES.join(', ')}; received ${JSON.stringify(name)}`,
    );
  }
  return a;
}
