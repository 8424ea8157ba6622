import type { Kernels } from './kernels.ts';
import { tsGemm } from './ts-gemm.ts';
import { tsLstmBackwardStep, tsLstmForwardStep } from './ts-recurrent.ts';

/**
 * Pure-TypeScript kernels: generic over Float32Array and Float64Array (one implementation), the fallback
 * backend and the oracle that faster backends are tested against.
 */
export const tsKernels: Kernels = {
  name: 'ts',
  gemm: tsGemm,
  allocateFloat32: (length) => new Float32Array(length),
  release() {},
  lstmForwardStep: tsLstmForwardStep,
  lstmBackwardStep: tsLstmBackwardStep,
};
