/**
 * Argument checks of the wasm kernel wrappers: an out-of-range offset in wasm would silently read or
 * overwrite a neighbouring buffer of the heap, so every extent is checked against its array first.
 */
import type { FloatArray } from '../tensor.ts';

export function dimension(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
    throw new RangeError(`gemm: ${name} must be an integer >= 0; received ${v}`);
  }
}

/**
 * Elements a rows × cols matrix at `off` with leading dimension `ld` spans; throws RangeError when it does
 * not fit in `a` or `ld` is below `cols`.
 */
export function span(
  name: string,
  a: FloatArray,
  off: number,
  rows: number,
  cols: number,
  ld: number,
): number {
  if (rows === 0 || cols === 0) return 0;
  const need = (rows - 1) * ld + cols;
  if (!Number.isInteger(ld) || ld < cols || !Number.isInteger(off) || off < 0 || off + need > a.length) {
    throw new RangeError(
      `gemm: ${name} is ${rows} × ${cols} with leading dimension ${ld} at offset ${off}, which needs ` +
        `ld >= ${cols} and ${off + need} elements; the array has ${a.length}`,
    );
  }
  return need;
}

/** [first, end) element range a strided block copy touches; throws when it leaves the array. */
export function extent(
  name: string,
  a: FloatArray,
  off: number,
  outerStride: number,
  innerStride: number,
  outer: number,
  inner: number,
  n: number,
): [number, number] {
  const lo = off + Math.min(0, (outer - 1) * outerStride) + Math.min(0, (inner - 1) * innerStride);
  const hi = off + Math.max(0, (outer - 1) * outerStride) + Math.max(0, (inner - 1) * innerStride) + n;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > a.length) {
    throw new RangeError(`copyBlocks: ${name} spans elements [${lo}, ${hi}); the array has ${a.length}`);
  }
  return [lo, hi];
}

export function fits(fn: string, name: string, a: FloatArray, off: number, length: number): void {
  if (!Number.isInteger(off) || off < 0 || off + length > a.length) {
    throw new RangeError(
      `${fn}: ${name} needs ${length} elements at offset ${off}; the array has ${a.length}`,
    );
  }
}
