/** Pure-TS data movement and reductions (see `Kernels.copyBlocks`, `sumRows`, `add`). */
import type { Kernels } from './kernels.ts';

export const tsCopyBlocks: Kernels['copyBlocks'] = (
  dst,
  dOff,
  dOuter,
  dInner,
  src,
  sOff,
  sOuter,
  sInner,
  outer,
  inner,
  n,
) => {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const d = dOff + o * dOuter + i * dInner;
      const s = sOff + o * sOuter + i * sInner;
      for (let j = 0; j < n; j++) dst[d + j] = src[s + j];
    }
  }
};

export const tsSumRows: Kernels['sumRows'] = (dst, dOff, src, sOff, rows, n) => {
  for (let r = 0; r < rows; r++) {
    const row = sOff + r * n;
    for (let j = 0; j < n; j++) dst[dOff + j] += src[row + j];
  }
};

export const tsAdd: Kernels['add'] = (dst, dOff, a, aOff, b, bOff, n) => {
  for (let j = 0; j < n; j++) dst[dOff + j] = a[aOff + j] + b[bOff + j];
};
