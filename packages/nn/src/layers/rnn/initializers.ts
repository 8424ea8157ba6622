/**
 * The Keras initializers a recurrent layer's config names (`kernel_initializer`, `recurrent_initializer`,
 * `bias_initializer`). They only matter for fresh weights: loaded weights overwrite them.
 */
import type { FloatArray } from '../../tensor.ts';
import { LayerConfigError } from '../registry.ts';
import { initialize } from '../weights.ts';

/** A Keras initializer as it appears in a config: `"orthogonal"` or `{ class_name, config }`. */
export type InitializerSpec = string | { class_name: string; config?: Record<string, unknown> };

export const GLOROT_UNIFORM: InitializerSpec = { class_name: 'GlorotUniform', config: { seed: null } };
export const ORTHOGONAL: InitializerSpec = { class_name: 'Orthogonal', config: { gain: 1, seed: null } };
export const ZEROS_INIT: InitializerSpec = { class_name: 'Zeros', config: {} };

type Kind = 'glorot_uniform' | 'orthogonal' | 'zeros' | 'ones';

const KINDS: Record<string, Kind> = {
  GlorotUniform: 'glorot_uniform',
  glorot_uniform: 'glorot_uniform',
  Orthogonal: 'orthogonal',
  orthogonal: 'orthogonal',
  Zeros: 'zeros',
  zeros: 'zeros',
  Ones: 'ones',
  ones: 'ones',
};

/** A parsed initializer that fills a weight of the given shape. */
export interface RecurrentInitializer {
  readonly spec: InitializerSpec;
  fill(value: FloatArray, shape: readonly number[]): void;
}

/**
 * Parses `spec` (the config value under `key`). A `seed` in the initializer's config makes it
 * deterministic (a mulberry32 stream: reproducible here, not the same numbers TensorFlow draws).
 */
export function recurrentInitializer(spec: unknown, key: string): RecurrentInitializer {
  const className = typeof spec === 'string' ? spec : isSpecObject(spec) ? spec.class_name : undefined;
  const kind = className === undefined ? undefined : KINDS[className];
  if (kind === undefined) {
    throw new LayerConfigError(
      `${key} must be one of GlorotUniform, Orthogonal, Zeros, Ones (or their snake_case names); received ${JSON.stringify(spec)}`,
    );
  }
  const config = isSpecObject(spec) ? (spec.config ?? {}) : {};
  const seed = config.seed;
  const gain = config.gain ?? 1;
  if (seed !== undefined && seed !== null && !Number.isInteger(seed)) {
    throw new LayerConfigError(
      `${key}.config.seed must be an integer or null; received ${JSON.stringify(seed)}`,
    );
  }
  if (typeof gain !== 'number' || !Number.isFinite(gain)) {
    throw new LayerConfigError(`${key}.config.gain must be a number; received ${JSON.stringify(gain)}`);
  }
  const random = typeof seed === 'number' ? seededRandom(seed) : Math.random;
  return {
    spec: spec as InitializerSpec,
    fill(value, shape) {
      // Keras' fans: [n] → (n, n); [rows, cols] → (rows, cols). Orthogonal flattens to [Π shape[:-1], shape[-1]].
      const cols = shape[shape.length - 1];
      const rows = value.length / cols;
      if (kind === 'orthogonal') orthogonal(value, rows, cols, gain, random);
      else if (kind === 'glorot_uniform') {
        const fanIn = shape.length === 1 ? cols : rows;
        initialize(value, { kind, fanIn, fanOut: cols }, random);
      } else initialize(value, { kind });
    },
  };
}

function isSpecObject(v: unknown): v is { class_name: string; config?: Record<string, unknown> } {
  return (
    typeof v === 'object' && v !== null && typeof (v as { class_name?: unknown }).class_name === 'string'
  );
}

/**
 * Keras `Orthogonal`: a [rows, cols] matrix with orthonormal rows (rows ≤ cols) or columns (rows > cols),
 * times `gain`. Keras takes Q of the QR decomposition of a standard-normal [max, min] matrix with R's
 * diagonal made positive, transposing when rows < cols; Gram–Schmidt on the columns gives that same Q.
 */
export function orthogonal(
  value: FloatArray,
  rows: number,
  cols: number,
  gain: number,
  random: () => number,
): void {
  const tall = Math.max(rows, cols);
  const narrow = Math.min(rows, cols);
  // q: [tall, narrow] column-major (column j at j·tall), float64 whatever the weight's dtype.
  const q = new Float64Array(tall * narrow);
  for (let i = 0; i < q.length; i++) q[i] = standardNormal(random);
  for (let j = 0; j < narrow; j++) {
    const cj = j * tall;
    for (let p = 0; p < j; p++) {
      const cp = p * tall;
      let dot = 0;
      for (let i = 0; i < tall; i++) dot += q[cp + i] * q[cj + i];
      for (let i = 0; i < tall; i++) q[cj + i] -= dot * q[cp + i];
    }
    let norm = 0;
    for (let i = 0; i < tall; i++) norm += q[cj + i] * q[cj + i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < tall; i++) q[cj + i] /= norm;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // rows ≥ cols: value = q; rows < cols: value = qᵀ.
      value[r * cols + c] = gain * (rows >= cols ? q[c * tall + r] : q[r * tall + c]);
    }
  }
}

function standardNormal(random: () => number): number {
  // Box–Muller; 1 − u keeps log away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
