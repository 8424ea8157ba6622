/**
 * The committed wasm/kernels.wasm is exactly what its C sources build to (where clang 14 and wasm-ld are
 * installed; elsewhere the test says why it cannot check), and it exports what src/kernels/wasm.ts calls.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkKernels, findToolchain } from '../../wasm/build.ts';
import { WASM_KERNELS_URL } from './wasm.ts';

const toolchain = findToolchain();

describe('wasm/kernels.wasm', () => {
  it.skipIf('missing' in toolchain)(
    `is byte-identical to a fresh build of wasm/src${'missing' in toolchain ? ` (cannot check: ${toolchain.missing})` : ''}`,
    () => {
      const result = checkKernels();
      expect(result).toMatchObject({ same: true });
    },
  );

  it('imports only a shared memory and exports the kernels', () => {
    const module = new WebAssembly.Module(readFileSync(WASM_KERNELS_URL));
    const imports = (
      WebAssembly.Module as unknown as {
        imports(m: unknown): { module: string; name: string; kind: string }[];
      }
    ).imports(module);
    const exports = (WebAssembly.Module as unknown as { exports(m: unknown): { name: string }[] }).exports(
      module,
    );
    expect(imports).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(exports.map((e) => e.name).sort()).toEqual(
      [
        '__heap_base',
        'activate',
        'add',
        'copy_blocks',
        'gemm',
        'gemm_scratch_floats',
        'gru_backward',
        'gru_forward',
        'lstm_backward',
        'lstm_forward',
        'normalize_columns',
        'peak_multiply_add',
        'sum_rows',
      ].sort(),
    );
  });
});
