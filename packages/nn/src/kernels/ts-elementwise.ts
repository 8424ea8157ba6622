/** Pure-TS elementwise layer math (see `Kernels.activate`, `normalizeColumns`). */
import type { Kernels } from './kernels.ts';

export const tsActivate: Kernels['activate'] = (activation, a, off, n) => activation.apply(a, off, n);

export const tsNormalizeColumns: Kernels['normalizeColumns'] = (dst, src, mean, scale, shift, rows, n) => {
  for (let r = 0, o = 0; r < rows; r++) {
    for (let j = 0; j < n; j++, o++) dst[o] = (src[o] - mean[j]) * scale[j] + shift[j];
  }
};
