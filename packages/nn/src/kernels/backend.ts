import type { Kernels } from './kernels.ts';
import { tsKernels } from './ts.ts';

let current: Kernels = tsKernels;

/** The kernels layers use. The wasm backend (when built) installs itself with `setKernels`. */
export function kernels(): Kernels {
  return current;
}

export function setKernels(k: Kernels): void {
  current = k;
}
