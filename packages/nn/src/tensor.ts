/**
 * Tensors are row-major typed arrays with an explicit shape. Sequences are `[batch, time, features]`.
 *
 * Everything numeric in packages/nn is generic over the element type: `float32` is the fast path,
 * `float64` exists so gradient checks can run central finite differences with one implementation.
 */
import { kernels } from './kernels/backend.ts';

export type FloatArray = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';

export interface Tensor<A extends FloatArray = FloatArray> {
  readonly shape: readonly number[];
  readonly data: A;
}

export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** Number of elements of a shape; `[]` is a scalar (1). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`Invalid dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/**
 * A zero-filled buffer. Float32 ones come from the kernels' backend, so with the wasm backend they are views
 * of its memory and kernels use them without copying; give them back with `release` (layers' `dispose()`).
 */
export function allocate(dtype: DType, length: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(length) : kernels().allocateFloat32(length);
}

/** Gives buffers from `allocate` back to the backend (nulls and other arrays are skipped); do not use them after. */
export function release(...buffers: (FloatArray | null | undefined)[]): void {
  const k = kernels();
  for (const b of buffers) if (b) k.release(b);
}

export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  return { shape: [...shape], data: allocate(dtype, sizeOf(shape)) };
}

/** Wraps `data` (no copy) after checking that it holds exactly `shape`'s element count. */
export function tensor<A extends FloatArray>(shape: readonly number[], data: A): Tensor<A> {
  const n = sizeOf(shape);
  if (data.length !== n) {
    throw new ShapeError(`Shape [${shape.join(', ')}] needs ${n} elements but data has ${data.length}`);
  }
  return { shape: [...shape], data };
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
