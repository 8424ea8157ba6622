import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The committed binary was built by Debian's clang 14; another major version may emit other bytes. */
const clangVersion = spawnSync('clang', ['--version'], { encoding: 'utf8' }).stdout ?? '';
const hasToolchain =
  /clang version 14\./.test(clangVersion) && spawnSync('llvm-objdump', ['--version']).status === 0;
const packageDir = fileURLToPath(new URL('../..', import.meta.url));

describe('committed MFCC kernel', () => {
  it.skipIf(!hasToolchain)(
    'is what wasm/mfcc_kernel.c builds to (where clang 14 + lld are installed)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'kws-kernel-'));
      try {
        const out = join(dir, 'mfcc_kernel.wasm');
        execFileSync('bash', ['scripts/build-wasm.sh', out], { cwd: packageDir, stdio: 'pipe' });
        expect(readFileSync(out).equals(readFileSync(new URL('mfcc_kernel.wasm', import.meta.url)))).toBe(
          true,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('imports only kissfft’s memory and kiss_fft, and exports only mfcc_frames', () => {
    const module = new WebAssembly.Module(readFileSync(new URL('mfcc_kernel.wasm', import.meta.url)));
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`);
    const exports = WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`);
    expect(imports).toEqual(['env.memory:memory', 'kissfft.kiss_fft:function']);
    expect(exports).toEqual(['mfcc_frames:function']);
  });
});
