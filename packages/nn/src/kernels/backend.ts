import type { Kernels } from './kernels.ts';
import { tsKernels } from './ts.ts';
import { createWasmKernels, wasmUnsupportedReason } from './wasm.ts';

/** Backends `KWS_NN_BACKEND` may name. */
export const BACKEND_NAMES = ['wasm', 'ts'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * The kernels at start-up: `KWS_NN_BACKEND=wasm|ts` when set (wasm throws where the runtime cannot run
 * it), else wasm SIMD where the runtime supports it and pure TS otherwise.
 */
function initialKernels(): Kernels {
  const requested = globalThis.process?.env?.KWS_NN_BACKEND;
  if (requested === 'ts') return tsKernels;
  if (requested !== undefined && requested !== '' && requested !== 'wasm') {
    throw new Error(`KWS_NN_BACKEND must be one of ${BACKEND_NAMES.join(', ')}; received "${requested}"`);
  }
  const reason = wasmUnsupportedReason();
  if (reason === null) return createWasmKernels()!;
  if (requested === 'wasm') throw new Error(`KWS_NN_BACKEND=wasm, but this runtime has ${reason}`);
  return tsKernels;
}

let current: Kernels = initialKernels();

/** The kernels layers use. */
export function kernels(): Kernels {
  return current;
}

/**
 * Replaces the kernels. Buffers allocated before stay valid under any backend (a wasm buffer is an
 * ordinary Float32Array to the TS kernels; the wasm kernels stage arrays that are not theirs).
 */
export function setKernels(k: Kernels): void {
  current = k;
}
