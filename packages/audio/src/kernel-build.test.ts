import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The committed binaries were built by Debian's clang 14; another major version may emit other bytes. */
const clangVersion = spawnSync('clang', ['--version'], { encoding: 'utf8' }).stdout ?? '';
const hasToolchain =
  /clang version 14\./.test(clangVersion) && spawnSync('llvm-objdump', ['--version']).status === 0;
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Each committed kernel: where it lives under src/, and the only imports and exports it may have. */
const kernels = [
  {
    file: 'mfcc/mfcc_kernel.wasm',
    imports: ['env.memory:memory', 'kissfft.kiss_fft:function'],
    exports: ['mfcc_frames:function'],
  },
  {
    file: 'resample_kernel.wasm',
    imports: ['env.memory:memory'],
    exports: ['resample_exact:function'],
  },
];
const committed = (file: string) => readFileSync(new URL(file, import.meta.url));

describe('committed wasm kernels', () => {
  it.skipIf(!hasToolchain)('are what wasm/*.c build to (where clang 14 + lld are installed)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kws-kernel-'));
    try {
      execFileSync('bash', ['scripts/build-wasm.sh', dir], { cwd: packageDir, stdio: 'pipe' });
      for (const { file } of kernels) {
        const built = readFileSync(join(dir, file.split('/').at(-1) as string));
        expect(built.equals(committed(file)), file).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const kernel of kernels) {
    it(`${kernel.file} imports only ${kernel.imports.join(', ')} and exports only ${kernel.exports.join(', ')}`, () => {
      const module = new WebAssembly.Module(committed(kernel.file));
      expect(WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`)).toEqual(
        kernel.imports,
      );
      expect(WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`)).toEqual(kernel.exports);
    });
  }
});
