import type { Kernels } from './kernels.ts';
import { tsAdd, tsCopyBlocks, tsSumRows } from './ts-copy.ts';
import { tsActivate, tsNormalizeColumns } from './ts-elementwise.ts';
import { tsGemm } from './ts-gemm.ts';
import { tsGruBackward, tsGruForward, tsLstmBackward, tsLstmForward } from './ts-recurrent.ts';

/**
 * Pure-TypeScript kernels: generic over Float32Array and Float64Array (one implementation), the fallback
 * backend and the oracle that faster backends are tested against.
 */
export const tsKernels: Kernels = {
  name: 'ts',
  gemm: tsGemm,
  allocateFloat32: (length) => new Float32Array(length),
  release() {},
  lstmForward: tsLstmForward,
  lstmBackward: tsLstmBackward,
  gruForward: tsGruForward,
  gruBackward: tsGruBackward,
  copyBlocks: tsCopyBlocks,
  sumRows: tsSumRows,
  add: tsAdd,
  activate: tsActivate,
  normalizeColumns: tsNormalizeColumns,
  concurrently(first, second) {
    first();
    second();
  },
};
