/**
 * Builds `wasm/kernels.wasm` from `wasm/src/*.c` with clang's wasm32 target (Debian: `apt-get install -y
 * clang lld`). The .wasm is committed so a clone needs no compiler; the C sources are the truth, and
 * `--check` proves the committed file is exactly what they build to.
 *
 *   node --import tsx wasm/build.ts           rebuild wasm/kernels.wasm (needs clang 14 + wasm-ld)
 *   node --import tsx wasm/build.ts --check   rebuild into a temp dir and compare byte for byte; without
 *                                             the toolchain (or with another clang major) say so and pass
 *
 * The module imports a shared memory (`env.memory`, see src/kernels/wasm-heap.ts for why shared) and
 * keeps no state of its own: every kernel gets its scratch space as an argument.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const WASM_OUTPUT = join(HERE, 'kernels.wasm');
/** The committed kernels.wasm was built with this clang major; other majors generate different code. */
export const CLANG_MAJOR = 14;
/** 1 GiB: the most the heap may grow to (src/kernels/wasm.ts' MAXIMUM_PAGES). */
const MAX_MEMORY_BYTES = 1 << 30;

const FLAGS = [
  '--target=wasm32',
  '-O3',
  '-msimd128',
  // A shared memory needs atomics and bulk memory; exporting the mutable stack pointer needs mutable-globals.
  '-matomics',
  '-mbulk-memory',
  '-mmutable-globals',
  '-nostdlib',
  '-ffreestanding',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-Wl,--no-entry',
  '-Wl,--import-memory',
  '-Wl,--shared-memory',
  `-Wl,--max-memory=${MAX_MEMORY_BYTES}`,
  '-Wl,--export=__heap_base',
  '-Wl,--strip-all',
];

export type Toolchain = { clang: string; version: string } | { missing: string };

/** `clang` on PATH and its version line, or why it cannot be used. */
export function findToolchain(): Toolchain {
  try {
    const version = execFileSync('clang', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    const major = Number(/clang version (\d+)\./.exec(version)?.[1]);
    if (major !== CLANG_MAJOR)
      return { missing: `found "${version}", but kernels.wasm is built with clang ${CLANG_MAJOR}` };
    return { clang: 'clang', version };
  } catch {
    return { missing: 'clang is not installed (Debian: apt-get install -y clang lld)' };
  }
}

/** Compiles the sources and returns the module's bytes. */
export function buildKernels(clang: string): Uint8Array {
  const srcDir = join(HERE, 'src');
  const sources = readdirSync(srcDir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(srcDir, f));
  const dir = mkdtempSync(join(tmpdir(), 'kws-nn-wasm-'));
  try {
    const out = join(dir, 'kernels.wasm');
    execFileSync(clang, [...FLAGS, '-o', out, ...sources], { stdio: ['ignore', 'inherit', 'inherit'] });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether the committed module equals a fresh build; null (with the reason) when it cannot be built here. */
export function checkKernels(): { same: boolean; built: number; committed: number } | { skipped: string } {
  const toolchain = findToolchain();
  if ('missing' in toolchain) return { skipped: toolchain.missing };
  const built = buildKernels(toolchain.clang);
  const committed = readFileSync(WASM_OUTPUT);
  return {
    same: Buffer.compare(Buffer.from(built), committed) === 0,
    built: built.length,
    committed: committed.length,
  };
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`wasm/build.ts: unknown argument ${unknown[0]}; usage: build.ts [--check]\n`);
    return 2;
  }
  if (check) {
    const result = checkKernels();
    if ('skipped' in result) {
      process.stdout.write(`wasm/kernels.wasm not verified: ${result.skipped}; using the committed file\n`);
      return 0;
    }
    if (!result.same) {
      process.stderr.write(
        `wasm/kernels.wasm (${result.committed} bytes) differs from what wasm/src builds to (${result.built} bytes): ` +
          'run `npm run build:wasm -w @kws/nn` and commit the result\n',
      );
      return 1;
    }
    process.stdout.write(`wasm/kernels.wasm matches its sources (${result.built} bytes)\n`);
    return 0;
  }
  const toolchain = findToolchain();
  if ('missing' in toolchain) {
    process.stderr.write(`wasm/build.ts: cannot build: ${toolchain.missing}\n`);
    return 1;
  }
  const bytes = buildKernels(toolchain.clang);
  writeFileSync(WASM_OUTPUT, bytes);
  process.stdout.write(`built wasm/kernels.wasm (${bytes.length} bytes) with ${toolchain.version}\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main(process.argv.slice(2));
