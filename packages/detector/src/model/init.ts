/**
 * Seeded weight initialization with Keras' default initializers, so a training run is a pure function of
 * its seed (packages/nn initializes feed-forward layers from Math.random):
 * - `kernel`: Glorot uniform, limit √(6 / (fan_in + fan_out)), fans over the receptive field for Conv1D
 *   (`[k, in, out]`: fan_in = k·in, fan_out = k·out);
 * - `recurrent_kernel`: orthogonal (gain 1): the rows of `[u, 4u]` are orthonormal;
 * - every other weight keeps the value the layer was built with (zero biases with LSTM's unit forget bias,
 *   BatchNormalization's γ = 1, β = 0, moving mean 0, moving variance 1), which involves no randomness.
 */
import type { FloatArray, Sequential } from '@kws/nn';
import { derive, type Rng } from '../data/random.ts';

function glorotUniform(value: FloatArray, shape: readonly number[], rng: Rng): void {
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const fanIn = shape.length >= 2 ? shape[shape.length - 2] * receptive : shape[0];
  const fanOut = shape[shape.length - 1] * receptive;
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < value.length; i++) value[i] = rng.uniform(-limit, limit);
}

/** Orthonormal rows (rows ≤ cols) or columns (rows > cols) by Gram–Schmidt on Gaussian vectors. */
function orthogonal(value: FloatArray, rows: number, cols: number, rng: Rng): void {
  const byRows = rows <= cols;
  const count = byRows ? rows : cols;
  const length = byRows ? cols : rows;
  const vectors: Float64Array[] = [];
  for (let v = 0; v < count; v++) {
    const x = new Float64Array(length);
    for (;;) {
      for (let i = 0; i < length; i++) x[i] = rng.normal();
      for (const q of vectors) {
        let dot = 0;
        for (let i = 0; i < length; i++) dot += x[i] * q[i];
        for (let i = 0; i < length; i++) x[i] -= dot * q[i];
      }
      let norm = 0;
      for (let i = 0; i < length; i++) norm += x[i] * x[i];
      norm = Math.sqrt(norm);
      // A draw (numerically) inside the span of the previous vectors has probability ~0; draw again.
      if (norm > 1e-6) {
        for (let i = 0; i < length; i++) x[i] /= norm;
        break;
      }
    }
    vectors.push(x);
  }
  for (let v = 0; v < count; v++) {
    for (let i = 0; i < length; i++) {
      if (byRows) value[v * cols + i] = vectors[v][i];
      else value[i * cols + v] = vectors[v][i];
    }
  }
}

/** Re-draws every `kernel` and `recurrent_kernel` of a built model from `seed`. */
export function initializeWeights(model: Sequential, seed: number | string): void {
  if (model.inputShape === null) throw new Error('initializeWeights: build the model first');
  model.layers.forEach((layer, i) => {
    for (const w of layer.weights) {
      const kind = w.name.split('/').at(-1);
      const rng = derive(seed, 'init', i, layer.name, w.name);
      if (kind === 'kernel') glorotUniform(w.value, w.shape, rng);
      else if (kind === 'recurrent_kernel') {
        if (w.shape.length !== 2) throw new RangeError(`${layer.name}/${w.name} is not a matrix`);
        orthogonal(w.value, w.shape[0], w.shape[1], rng);
      }
    }
  });
}
