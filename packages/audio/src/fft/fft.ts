/**
 * A batched real FFT: the caller writes up to `batch` frames of `size` real samples into `input()`, calls
 * `transform(count)`, and reads `size / 2 + 1` complex bins per frame from `output()`.
 *
 * Buffers belong to the transform and are reused across calls, so the hot loop allocates nothing. The views
 * returned by `input()` and `output()` stay valid until the next call of either method (a wasm-backed
 * implementation re-creates them if its memory grew), so fetch them once per batch, not once per program.
 */
export interface BatchRealFft {
  /** Transform length N (even). */
  readonly size: number;
  /** Maximum number of frames per `transform` call. */
  readonly batch: number;
  /** [batch, size] real input frames; the transform does not modify them. */
  input(): Float32Array;
  /** [batch, size + 2] interleaved (re, im) for bins k = 0 … size / 2; stride `size + 2` per frame. */
  output(): Float32Array;
  /** Transforms frames 0 … count − 1 of `input()` into `output()`. */
  transform(count: number): void;
}

/** Floats per frame in a `BatchRealFft` output: N / 2 + 1 complex bins. */
export function outputStride(size: number): number {
  return size + 2;
}

export function checkFftArgs(size: number, batch: number): void {
  if (!Number.isInteger(size) || size < 2 || size % 2 !== 0) {
    throw new RangeError(`FFT size must be an even integer ≥ 2, got ${size}`);
  }
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RangeError(`FFT batch must be an integer ≥ 1, got ${batch}`);
  }
}

export function checkCount(count: number, batch: number): void {
  if (!Number.isInteger(count) || count < 0 || count > batch) {
    throw new RangeError(`FFT frame count must be an integer in 0…${batch}, got ${count}`);
  }
}
