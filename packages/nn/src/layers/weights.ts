import { allocate, type DType, type FloatArray, release, sizeOf } from '../tensor.ts';
import type { Weight } from './layer.ts';

/**
 * Keras' default initial values: `glorot_uniform` for kernels, `zeros` for biases and betas, `ones` for
 * gammas and moving variances. `fan` is Keras' (fan_in, fan_out) for glorot.
 */
export type Initializer =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'glorot_uniform'; fanIn: number; fanOut: number };

export const ZEROS: Initializer = { kind: 'zeros' };
export const ONES: Initializer = { kind: 'ones' };

/** A weight with its value initialised and an all-zero gradient. */
export function createWeight(
  name: string,
  shape: readonly number[],
  dtype: DType,
  init: Initializer,
  trainable = true,
  random: () => number = Math.random,
): Weight {
  const n = sizeOf(shape);
  const value = allocate(dtype, n);
  initialize(value, init, random);
  return { name, shape: [...shape], value, grad: allocate(dtype, n), trainable };
}

export function initialize(value: FloatArray, init: Initializer, random: () => number = Math.random): void {
  switch (init.kind) {
    case 'zeros':
      value.fill(0);
      return;
    case 'ones':
      value.fill(1);
      return;
    case 'glorot_uniform': {
      const limit = Math.sqrt(6 / (init.fanIn + init.fanOut));
      for (let i = 0; i < value.length; i++) value[i] = (2 * random() - 1) * limit;
      return;
    }
  }
}

/**
 * Returns `buffer` when it already holds `length` elements, else releases it and returns a new one:
 * buffers are allocated once per batch shape and reused while the shape stays.
 */
export function reuse(buffer: FloatArray | null, dtype: DType, length: number): FloatArray {
  if (buffer !== null && buffer.length === length) return buffer;
  release(buffer);
  return allocate(dtype, length);
}
